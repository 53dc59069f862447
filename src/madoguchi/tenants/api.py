"""JSON routes of the tenants domain, under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from madoguchi.core.dependencies import Session
from madoguchi.tenants import service
from madoguchi.tenants.models import TenantKind
from madoguchi.tenants.postal import PostalTown
from madoguchi.tenants.schemas import (
    BodyRef,
    PostalCodeOut,
    PostalTownOut,
    TenantDetail,
    TenantList,
    TenantOut,
    WardOut,
)

router = APIRouter(prefix="/api/v1", tags=["public bodies"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such public body or postal code (problem+json)"},
    422: {"description": "The input is malformed; the problem names the field (problem+json)"},
}


@router.get("/tenants", response_model=TenantList, responses=PROBLEMS)
async def list_tenants(
    session: Session,
    kind: Annotated[TenantKind | None, Query(description="only bodies of this kind")] = None,
    prefecture: Annotated[
        str | None, Query(description="2-digit or 6-digit prefecture code")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="name, kana or code")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
) -> TenantList:
    """Public bodies: the 1,788 local governments and the national ministries and agencies."""
    page = await service.list_tenants(
        session, kind=kind, prefecture=prefecture, q=q, limit=limit, offset=offset
    )
    items = [TenantOut.model_validate(t) for t in page.items]
    return TenantList(items=items, total=page.total, limit=page.limit, offset=page.offset)


@router.get("/tenants/{code}", response_model=TenantDetail, responses=PROBLEMS)
async def get_tenant(code: str, session: Session) -> TenantDetail:
    """One public body by its code; a designated city lists its wards."""
    tenant = await service.get_tenant(session, code)
    wards = [WardOut.model_validate(w) for w in await service.list_wards(session, tenant)]
    return TenantDetail(**TenantOut.model_validate(tenant).model_dump(), wards=wards)


@router.get("/postal-codes/{postal_code}", response_model=PostalCodeOut, responses=PROBLEMS)
async def get_postal_code(postal_code: str) -> PostalCodeOut:
    """The prefecture, municipality, ward and towns of a 7-digit postal code (hyphen optional)."""
    result = service.lookup_postal_code(postal_code)
    towns = [_town_out(town) for town in result.towns]
    return PostalCodeOut(postal_code=result.postal_code, formatted=result.formatted, towns=towns)


def _town_out(town: PostalTown) -> PostalTownOut:
    return PostalTownOut(
        prefecture=_ref(town.prefecture),
        municipality=_ref(town.municipality),
        ward=_ref(town.ward) if town.ward else None,
        town=town.town,
        town_kana=town.town_kana,
        office=town.office,
    )


def _ref(record: object) -> BodyRef:
    return BodyRef.model_validate(record, from_attributes=True)
