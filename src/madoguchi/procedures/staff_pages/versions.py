"""A procedure's versions: publish a draft, make an earlier version current, edit the draft.

A draft is edited in place until it is published; editing a published version starts the next
one as a draft. A new draft keeps the Excel workbook its procedure was drafted from, so that
responses can still be exported into that layout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.staff_access import StaffSupervisor, StaffViewer
from madoguchi.procedures import service
from madoguchi.procedures.models import VersionStatus
from madoguchi.procedures.staff_pages.editing import (
    PREFIX,
    YamlForm,
    local_time,
    procedure_of,
    title_of,
    to_versions,
)
from madoguchi.tenants import service as tenants

router = APIRouter(prefix=PREFIX, include_in_schema=False)

NOTICES = {
    "saved": N_("Version {version} is saved as a draft. Publish it when it is ready."),
    "published": N_("Version {version} is published: applicants get it now."),
    "current": N_("Version {version} is current again: applicants get it now."),
}


@dataclass(frozen=True)
class VersionRow:
    number: int
    draft: bool
    current: bool
    saved: str
    published: str | None
    from_workbook: bool


@router.get("/{slug}/versions", response_class=HTMLResponse)
async def versions_page(
    request: Request,
    code: str,
    slug: str,
    session: Session,
    staff: StaffViewer,
    done: str = "",
    version: str = "",
) -> HTMLResponse:
    """Every version with its status; publish a draft, make an earlier version current again."""
    notice = NOTICES.get(done) if version.isdigit() else None
    message = _(notice, version=version) if notice else None
    return await _versions_response(request, session, code, slug, FormErrors(), message)


@router.post("/{slug}/versions/{version}/publish")
async def publish_version(
    request: Request, code: str, slug: str, version: int, session: Session, staff: StaffSupervisor
) -> Response:
    check_csrf(request, await request.form())
    tenant, procedure = await procedure_of(session, code, slug)
    errors = FormErrors()
    if not await _attempted(errors, service.publish(session, procedure, version)):
        return await _versions_response(request, session, code, slug, errors, None)
    return to_versions(tenant.code, slug, "published", version)


@router.post("/{slug}/versions/{version}/make-current")
async def make_version_current(
    request: Request, code: str, slug: str, version: int, session: Session, staff: StaffSupervisor
) -> Response:
    """Roll back: an earlier published version becomes the one applicants get."""
    check_csrf(request, await request.form())
    tenant, procedure = await procedure_of(session, code, slug)
    errors = FormErrors()
    if not await _attempted(errors, service.roll_back_to(session, procedure, version)):
        return await _versions_response(request, session, code, slug, errors, None)
    return to_versions(tenant.code, slug, "current", version)


async def _versions_response(
    request: Request,
    session: AsyncSession,
    code: str,
    slug: str,
    errors: FormErrors,
    notice: str | None,
) -> HTMLResponse:
    tenant, procedure = await procedure_of(session, code, slug)
    versions = await service.list_versions(session, procedure)
    html = render(
        "staff/versions.html",
        request=request,
        tenant=tenant,
        slug=slug,
        title=await title_of(session, procedure, versions),
        adopted=procedure.template_procedure_id is not None,
        rows=[_row(v, procedure.current_version) for v in reversed(versions)],
        has_draft=bool(versions) and versions[-1].status == VersionStatus.DRAFT,
        errors=errors,
        notice=notice,
    )
    return HTMLResponse(html, status_code=422 if errors.items else 200)


def _row(version: service.ProcedureVersion, current: int | None) -> VersionRow:
    return VersionRow(
        number=version.version,
        draft=version.status == VersionStatus.DRAFT,
        current=version.version == current,
        saved=local_time(version.created_at),
        published=local_time(version.published_at) if version.published_at else None,
        from_workbook=version.workbook_sha256 is not None,
    )


async def _attempted(errors: FormErrors, action: Awaitable[Any]) -> bool:
    """Run a service action; a refusal is noted for the page instead of raised."""
    try:
        await action
    except InvalidInput as error:
        errors.items.append(FormError(_(error.message, **error.params)))
        return False
    return True


# --- The draft's YAML -------------------------------------------------------------------------


@router.get("/{slug}/versions/draft", response_class=HTMLResponse)
async def draft_page(
    request: Request, code: str, slug: str, session: Session, staff: StaffSupervisor
) -> HTMLResponse:
    """The draft's YAML to edit; with no draft, the latest version's, saved as a new draft."""
    tenant, procedure = await procedure_of(session, code, slug)
    versions = await _own_versions(session, procedure)
    return await _draft_response(request, session, tenant, procedure, versions, None)


@router.post("/{slug}/versions/draft")
async def save_draft_page(
    request: Request, code: str, slug: str, session: Session, staff: StaffSupervisor
) -> Response:
    form = await request.form()
    check_csrf(request, form)
    tenant, procedure = await procedure_of(session, code, slug)
    versions = await _own_versions(session, procedure)
    typed = YamlForm.posted(form)
    if typed.checked(tenant.code, slug) is None:
        return await _draft_response(request, session, tenant, procedure, versions, typed)
    draft = await service.save_draft(session, tenant.code, typed.source)
    return to_versions(tenant.code, slug, "saved", draft.version)


async def _draft_response(
    request: Request,
    session: AsyncSession,
    tenant: tenants.Tenant,
    procedure: service.Procedure,
    versions: Sequence[service.ProcedureVersion],
    typed: YamlForm | None,
) -> HTMLResponse:
    latest = versions[-1]
    html = render(
        "staff/draft.html",
        request=request,
        tenant=tenant,
        slug=procedure.slug,
        title=await title_of(session, procedure, versions),
        latest=latest,
        editing_draft=latest.status == VersionStatus.DRAFT,
        form=typed or YamlForm(latest.source),
    )
    return HTMLResponse(html, status_code=422 if typed else 200)


async def _own_versions(
    session: AsyncSession, procedure: service.Procedure
) -> Sequence[service.ProcedureVersion]:
    versions = await service.list_versions(session, procedure)
    if not versions:
        raise NotFound(
            "This procedure adopts a national template: its questions and versions are the "
            "template owner's.",
            field="procedure",
        )
    return versions
