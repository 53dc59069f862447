"""Choosing a body, and a body's procedures with the number of submissions each has."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.core.dependencies import Session
from madoguchi.core.forms import FormErrors, check_length
from madoguchi.core.templating import render
from madoguchi.identity.staff_access import Role, StaffAnywhere, StaffViewer
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import LocalText
from madoguchi.submissions.queries import Filters, count_submissions
from madoguchi.submissions.staff_pages.shared import procedure_title
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/staff", include_in_schema=False)

BODIES_SHOWN = 50


@dataclass(frozen=True)
class ProcedureRow:
    slug: str
    title: LocalText
    submissions: int
    adopted: bool  # a national template this body offers: its versions are the owner's
    published: bool


@router.get("", response_class=HTMLResponse)
async def bodies_page(
    request: Request, session: Session, staff: StaffAnywhere, q: str = ""
) -> HTMLResponse:
    """The bodies the official works for; a platform administrator finds any body by code or
    name. Each links to its staff home."""
    errors = FormErrors()
    found = None
    searching = staff.platform_administrator and q.strip()
    if searching and errors.attempt(lambda: check_length(q, "q")) is not None:
        found = await tenants.list_tenants(session, q=q, limit=BODIES_SHOWN)
    html = render(
        "staff/bodies.html", request=request, q=q, found=found, errors=errors, staff=staff
    )
    return HTMLResponse(html, status_code=422 if errors.items else 200)


@router.get("/bodies/{code}", response_class=HTMLResponse)
async def body_page(request: Request, code: str, session: Session, staff: StaffViewer) -> Response:
    """A body's procedures (its own, drafts too, and the templates it adopted)."""
    tenant = staff.tenant
    if tenant.code != code:
        return RedirectResponse(f"/staff/bodies/{tenant.code}", status_code=308)
    rows = [
        ProcedureRow(
            procedure.slug,
            await procedure_title(session, procedure),
            await count_submissions(session, tenant.id, procedure.id, Filters()),
            adopted=procedure.template_procedure_id is not None,
            published=procedure.current_version is not None,
        )
        for procedure in await procedures.list_procedures(session, tenant)
    ]
    html = render(
        "staff/body.html",
        request=request,
        tenant=tenant,
        rows=rows,
        administrator=staff.may(Role.ADMINISTRATOR),
    )
    return HTMLResponse(html)
