"""HTML pages of the tenants domain: a page for each public body, browsing, postal lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.templating import render
from madoguchi.tenants import service
from madoguchi.tenants.models import TenantKind

router = APIRouter(include_in_schema=False)

SEARCH_PAGE_SIZE = 50


@router.get("/bodies", response_class=HTMLResponse)
async def search_page(
    request: Request,
    session: Session,
    q: Annotated[str, Query(max_length=100)] = "",
    kind: str = "",
    prefecture: str = "",
    page: Annotated[int, Query(ge=1, le=200)] = 1,
) -> HTMLResponse:
    """Search by name, kana or code; with no words, lists every body page by page."""
    offset = (page - 1) * SEARCH_PAGE_SIZE
    result = await service.list_tenants(
        session,
        q=q,
        kind=kind or None,
        prefecture=prefecture or None,
        limit=SEARCH_PAGE_SIZE,
        offset=offset,
    )
    html = render(
        "tenants/search.html",
        request=request,
        q=q,
        kind=kind,
        prefecture=prefecture,
        result=result,
        page=page,
        kinds=list(TenantKind),
        pages=(result.total + SEARCH_PAGE_SIZE - 1) // SEARCH_PAGE_SIZE,
    )
    return HTMLResponse(html)


@router.get("/bodies/{code}", response_class=HTMLResponse)
async def tenant_page(request: Request, code: str, session: Session) -> HTMLResponse:
    tenant = await service.get_tenant(session, code)
    municipalities = (
        await service.list_municipalities(session, tenant)
        if tenant.kind == TenantKind.PREFECTURE
        else []
    )
    prefecture = (
        await service.get_tenant(session, tenant.prefecture_code + "000")
        if tenant.prefecture_code and tenant.kind != TenantKind.PREFECTURE
        else None
    )
    parent = await service.get_tenant(session, tenant.parent_code) if tenant.parent_code else None
    html = render(
        "tenants/show.html",
        request=request,
        tenant=tenant,
        prefecture=prefecture,
        parent=parent,
        municipalities=municipalities,
        wards=await service.list_wards(session, tenant),
    )
    return HTMLResponse(html)


@router.get("/prefectures", response_class=HTMLResponse)
async def prefectures_page(request: Request, session: Session) -> HTMLResponse:
    html = render(
        "tenants/prefectures.html",
        request=request,
        prefectures=await service.list_prefectures(session),
    )
    return HTMLResponse(html)


@router.get("/postal-codes", response_class=HTMLResponse)
async def postal_page(
    request: Request, postal_code: Annotated[str, Query(max_length=20)] = ""
) -> HTMLResponse:
    """Postal code lookup by a plain GET form; errors are shown beside the field, input kept."""
    result, error = None, None
    if postal_code:
        try:
            result = service.lookup_postal_code(postal_code)
        except MadoguchiError as failure:
            error = failure
    html = render(
        "tenants/postal.html", request=request, postal_code=postal_code, result=result, error=error
    )
    return HTMLResponse(html, status_code=error.status if error else 200)
