"""HTML pages of procedures: what each body offers, and each procedure's start page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.i18n import current_language
from madoguchi.core.offerings import Offering
from madoguchi.core.templating import render
from madoguchi.core.wareki import format_date
from madoguchi.procedures import service
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)


async def offerings(session: AsyncSession, tenant: tenants.Tenant) -> list[Offering]:
    """The procedures a body offers, for its page (registered in web.app)."""
    return [
        Offering(
            title=str(definition.title),
            summary=str(definition.summary),
            href=f"/bodies/{tenant.code}/procedures/{procedure.slug}",
        )
        for procedure, definition in await service.list_offered(session, tenant)
    ]


@router.get("/bodies/{code}/procedures/{slug}", response_class=HTMLResponse)
async def start_page(request: Request, code: str, slug: str, session: Session) -> HTMLResponse:
    """What the procedure is for, who may use it, until when, and whom to ask."""
    tenant = await tenants.get_tenant(session, code)
    procedure = await service.get_procedure(session, tenant.code, slug)
    definition = await service.effective_definition(session, procedure)
    dates = {
        "opens": format_date(definition.opens, current_language()) if definition.opens else None,
        "closes": format_date(definition.closes, current_language()) if definition.closes else None,
    }
    html = render(
        "procedures/start.html",
        request=request,
        tenant=tenant,
        definition=definition,
        dates=dates,
    )
    return HTMLResponse(html)
