"""The tenants domain's public functions: what other domains and the routes may call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.ids import uuid7
from madoguchi.core.text import search_key
from madoguchi.tenants.codes import parse_tenant_code
from madoguchi.tenants.models import Area, Tenant, TenantKind
from madoguchi.tenants.postal import PostalResult, parse_postal_code, postal_directory
from madoguchi.tenants.reference import BodyRecord, ReferenceData, reference_data

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000

__all__ = [
    "Area",
    "BodyRecord",
    "PostalResult",
    "SyncReport",
    "Tenant",
    "TenantKind",
    "find_local_government",
    "get_tenant",
    "list_all_tenants",
    "list_municipalities",
    "list_prefectures",
    "list_tenants",
    "list_wards",
    "lookup_postal_code",
    "parse_postal_code",
    "parse_tenant_code",
    "reference_size",
    "sync_reference_data",
]


@dataclass(frozen=True)
class TenantPage:
    items: Sequence[Tenant]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PrefectureCount:
    prefecture: Tenant
    municipalities: int


@dataclass(frozen=True)
class SyncReport:
    tenants: int
    wards: int


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit must be between 1 and {most}.", field="limit", most=MAX_PAGE_SIZE)
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset must be between 0 and {most}.", field="offset", most=MAX_OFFSET)


def check_kind(kind: str | None) -> TenantKind | None:
    if kind is None or kind == "":
        return None
    try:
        return TenantKind(kind)
    except ValueError:
        choices = ", ".join(TenantKind)
        raise InvalidInput(
            "{kind} is not a kind of public body; use one of: {choices}.",
            field="kind",
            kind=kind,
            choices=choices,
        ) from None


def check_prefecture(prefecture: str | None) -> str | None:
    if prefecture is None or prefecture == "":
        return None
    code = parse_tenant_code(prefecture, field="prefecture")
    if not code.isdigit() or code[2:5] != "000":
        raise InvalidInput(
            "{value} is not a prefecture code; use 2 digits (01–47) or the 6-digit code.",
            field="prefecture",
            value=prefecture,
        )
    return code[:2]


async def list_tenants(
    session: AsyncSession,
    *,
    kind: str | None = None,
    prefecture: str | None = None,
    q: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> TenantPage:
    """Public bodies filtered by kind, prefecture (2 or 6 digits) and free text, in code order."""
    check_page(limit, offset)
    query = _filtered(select(Tenant), check_kind(kind), _prefecture_prefix(prefecture), q)
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = await session.scalar(counted) or 0
    rows = await session.scalars(query.order_by(Tenant.code).limit(limit).offset(offset))
    return TenantPage(items=rows.all(), total=total, limit=limit, offset=offset)


def _prefecture_prefix(prefecture: str | None) -> str | None:
    text = (prefecture or "").strip()
    if len(text) == 2 and text.isdigit() and 1 <= int(text) <= 47:
        return text
    return check_prefecture(text)


def _filtered(
    query: Select[Tenant], kind: TenantKind | None, prefecture: str | None, q: str | None
) -> Select[Tenant]:
    if kind is not None:
        query = query.where(Tenant.kind == kind.value)
    if prefecture is not None:
        query = query.where(Tenant.prefecture_code == prefecture)
    key = search_key(q or "")
    if key:
        query = query.where(Tenant.search_text.contains(key, autoescape=True))
    return query


async def list_all_tenants(
    session: AsyncSession,
    *,
    kind: str | None = None,
    prefecture: str | None = None,
    q: str | None = None,
) -> list[Tenant]:
    """Every matching body, unpaginated: for the command line and exports."""
    query = _filtered(select(Tenant), check_kind(kind), _prefecture_prefix(prefecture), q)
    return list((await session.scalars(query.order_by(Tenant.code))).all())


async def get_tenant(session: AsyncSession, code: str) -> Tenant:
    canonical = parse_tenant_code(code)
    tenant = await session.scalar(select(Tenant).where(Tenant.code == canonical))
    if tenant is None:
        raise NotFound("No public body has the code {code}.", field="code", code=canonical)
    return tenant


async def list_prefectures(session: AsyncSession) -> list[PrefectureCount]:
    """The 47 prefectures with the number of municipalities in each."""
    counted = await session.execute(
        select(Tenant.prefecture_code, func.count())
        .where(Tenant.kind != TenantKind.PREFECTURE.value, Tenant.prefecture_code.is_not(None))
        .group_by(Tenant.prefecture_code)
    )
    counts = dict(counted.all())
    prefectures = await session.scalars(
        select(Tenant).where(Tenant.kind == TenantKind.PREFECTURE.value).order_by(Tenant.code)
    )
    return [PrefectureCount(p, counts.get(p.prefecture_code, 0)) for p in prefectures]


async def list_municipalities(session: AsyncSession, prefecture: Tenant) -> Sequence[Tenant]:
    rows = await session.scalars(
        select(Tenant)
        .where(
            Tenant.prefecture_code == prefecture.prefecture_code,
            Tenant.kind != TenantKind.PREFECTURE.value,
        )
        .order_by(Tenant.code)
    )
    return rows.all()


async def list_wards(session: AsyncSession, tenant: Tenant) -> Sequence[Area]:
    rows = await session.scalars(
        select(Area).where(Area.tenant_id == tenant.id).order_by(Area.code)
    )
    return rows.all()


def find_local_government(code: str) -> BodyRecord | None:
    """The prefecture or municipality with this 6-digit code, from the in-memory reference data.

    No database query: for checking answers. Wards of designated cities and national bodies are
    not local governments and give None.
    """
    body = reference_data().by_code.get(code)
    if body is None or body.prefecture_code is None:
        return None
    return body


def lookup_postal_code(raw: str) -> PostalResult:
    return postal_directory().lookup(raw)


async def sync_reference_data(
    session: AsyncSession, progress: Callable[[int], None] | None = None
) -> SyncReport:
    """Insert or update every public body and ward; running it twice leaves the same state."""
    reference = reference_data()
    await _upsert_tenants(session, reference.bodies)
    if progress:
        progress(len(reference.bodies))
    await _upsert_wards(session, reference)
    if progress:
        progress(len(reference.wards))
    return SyncReport(tenants=len(reference.bodies), wards=len(reference.wards))


def reference_size() -> int:
    reference = reference_data()
    return len(reference.bodies) + len(reference.wards)


async def _upsert_tenants(session: AsyncSession, bodies: Sequence[BodyRecord]) -> None:
    statement = _insert(session, Tenant)
    updated = {column: statement.excluded[column] for column in _UPDATED_TENANT_COLUMNS}
    upsert = statement.on_conflict_do_update(
        index_elements=["code"], set_=updated, where=_changed(Tenant.__table__, updated)
    )
    await session.execute(upsert, [_tenant_row(body) for body in bodies])


_UPDATED_TENANT_COLUMNS = (
    "kind",
    "name",
    "name_kana",
    "name_en",
    "prefecture_code",
    "parent_code",
    "search_text",
)


def _tenant_row(body: BodyRecord) -> dict[str, object]:
    searchable = " ".join(filter(None, (body.code, body.name, body.name_kana, body.name_en)))
    return {
        "id": uuid7(),  # kept only on first insert: the upsert never changes an id
        "code": body.code,
        "kind": body.kind.value,
        "name": body.name,
        "name_kana": body.name_kana,
        "name_en": body.name_en,
        "prefecture_code": body.prefecture_code,
        "parent_code": body.parent_code,
        "search_text": search_key(searchable),
    }


async def _upsert_wards(session: AsyncSession, reference: ReferenceData) -> None:
    tenant_ids = dict((await session.execute(select(Tenant.code, Tenant.id))).all())
    rows = [
        {
            "tenant_id": tenant_ids[ward.city_code],
            "code": ward.code,
            "name": ward.name,
            "name_kana": ward.name_kana,
        }
        for ward in reference.wards
    ]
    statement = _insert(session, Area)
    updated = {"name": statement.excluded.name, "name_kana": statement.excluded.name_kana}
    upsert = statement.on_conflict_do_update(
        index_elements=["tenant_id", "code"], set_=updated, where=_changed(Area.__table__, updated)
    )
    await session.execute(upsert, rows)


def _changed(table: Any, updated: dict[str, Any]) -> ColumnElement[bool]:
    """Update a row only when a value differs, so an unchanged reload writes nothing."""
    return or_(*(table.c[name].is_distinct_from(value) for name, value in updated.items()))


def _insert(session: AsyncSession, table: type[Tenant] | type[Area]) -> Any:
    """INSERT … ON CONFLICT for the session's backend (both dialects spell it the same way)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)
