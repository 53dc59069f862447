"""An Excel template turned into a draft procedure: upload, review and edit, save.

Two steps on one address. An upload is checked (size, XLSX by its content), drafted with
``procedures.excel`` as ``madoguchi procedures from-xlsx`` does, and shown as YAML with the
reader's notes. The reviewed YAML (``step=save``) is saved as a draft of the body; the workbook
is kept in the file store and its SHA-256 recorded on the draft version, so that responses can
be exported back into the body's own layout.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.files import XLSX, FileStore, is_file_id, sniff_media_type
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.staff_access import StaffSupervisor
from madoguchi.procedures import service
from madoguchi.procedures.excel import draft_from_workbook, draft_yaml
from madoguchi.procedures.excel.guessing import slugified
from madoguchi.procedures.staff_pages.editing import (
    PREFIX,
    YamlForm,
    form_text,
    language_runs,
    to_versions,
)
from madoguchi.tenants import service as tenants

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_WORKBOOK_MB = 10
MAX_WORKBOOK_BYTES = MAX_WORKBOOK_MB * 1024 * 1024
MULTIPART_ALLOWANCE = 64 * 1024  # the other fields and the multipart framing around the file
TOO_LARGE = N_("The file is larger than {most} MB.")


@router.get("/from-excel", response_class=HTMLResponse)
async def upload_page(
    request: Request, code: str, session: Session, staff: StaffSupervisor
) -> HTMLResponse:
    tenant = await tenants.get_tenant(session, code)
    return _upload_response(request, tenant, FormErrors(), slug="")


@router.post("/from-excel")
async def upload_or_save(
    request: Request, code: str, session: Session, staff: StaffSupervisor
) -> Response:
    """An upload is drafted and shown for review; a reviewed draft (``step=save``) is saved."""
    tenant = await tenants.get_tenant(session, code)
    if _declared_length(request) > MAX_WORKBOOK_BYTES + MULTIPART_ALLOWANCE:
        # refused before the body is read; nothing was stored
        message = _(TOO_LARGE, most=MAX_WORKBOOK_MB)
        errors = FormErrors([FormError(message, "file", "#file")])
        return _upload_response(request, tenant, errors, slug="", status=413)
    async with request.form(max_files=1, max_fields=20) as form:  # closes the spooled upload
        check_csrf(request, form)
        if form.get("step") == "save":
            return await _save_reviewed(request, session, tenant, form)
        return await _draft_uploaded(request, tenant, form)


async def _draft_uploaded(request: Request, tenant: tenants.Tenant, form: FormData) -> Response:
    slug = form_text(form, "slug").strip()
    errors = FormErrors()
    upload = form.get("file")
    name = (upload.filename or "") if isinstance(upload, UploadFile) else ""
    data = await _uploaded_workbook(upload, errors)
    draft = None
    if data is not None:
        guessed = slug or slugified(PurePath(name).stem, "-")
        draft = errors.attempt(lambda: draft_from_workbook(data, owner=tenant.code, slug=guessed))
    if data is None or draft is None:
        return _upload_response(request, tenant, errors, slug)
    stored = _store(request).store(data)
    typed = YamlForm(draft_yaml(draft))
    return _review_response(request, tenant, typed, stored.sha256, name, draft.notes, 200)


async def _save_reviewed(
    request: Request, session: AsyncSession, tenant: tenants.Tenant, form: FormData
) -> Response:
    store = _store(request)
    workbook, name = form_text(form, "workbook"), form_text(form, "filename")
    typed = YamlForm.posted(form)
    again = f"/staff/bodies/{tenant.code}/procedures/from-excel"
    typed.errors.attempt(lambda: _check_workbook(store, workbook), href=again)
    definition = typed.checked(tenant.code, slug=None)
    if definition is not None:
        await _check_new_slug(session, tenant, definition.slug, typed.errors)
    if typed.invalid or definition is None:
        notes = _notes_of(store, workbook, tenant.code)
        return _review_response(request, tenant, typed, workbook, name, notes, 422)
    draft = await service.save_draft(session, tenant.code, typed.source, workbook)
    return to_versions(tenant.code, definition.slug, "saved", draft.version)


async def _uploaded_workbook(upload: Any, errors: FormErrors) -> bytes | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        message = _("Choose an Excel file (.xlsx) to upload.")
        errors.items.append(FormError(message, "file", "#file"))
        return None
    data = await upload.read(MAX_WORKBOOK_BYTES + 1)
    return errors.attempt(lambda: check_workbook_bytes(upload.filename or "", data))


def check_workbook_bytes(name: str, data: bytes) -> bytes:
    """The upload, if it is a workbook we can read: not empty, not too large, XLSX by content."""
    if not data:
        raise InvalidInput("The file {name} is empty.", field="file", name=name)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise InvalidInput(TOO_LARGE, field="file", most=MAX_WORKBOOK_MB)
    if sniff_media_type(data) != XLSX:
        raise InvalidInput(
            "The file {name} is not an Excel workbook (.xlsx). An older .xls file can be saved "
            "as .xlsx from Excel.",
            field="file",
            name=name,
        )
    return data


def _check_workbook(store: FileStore, sha256: str) -> None:
    """The reviewed draft names a workbook we stored (the hidden field comes back from the
    browser, so it is checked again)."""
    if not (is_file_id(sha256) and store.exists(sha256) and store.info(sha256).media_type == XLSX):
        raise InvalidInput("The uploaded workbook was not found: upload it again.", field="file")


async def _check_new_slug(
    session: AsyncSession, tenant: tenants.Tenant, slug: str, errors: FormErrors
) -> None:
    """A workbook starts a new procedure: never overwrite an existing one's draft by accident."""
    try:
        await service.get_procedure(session, tenant.code, slug)
    except NotFound:
        return
    message = _(
        "This body already has a procedure called {slug}. Choose another slug, or edit that "
        "procedure's draft.",
        slug=slug,
    )
    errors.items.append(FormError(message, "source", "#source"))


def _notes_of(store: FileStore, workbook: str, owner: str) -> list[str]:
    """The reader's notes again (they are not posted back): drafted anew from the stored file."""
    if not (is_file_id(workbook) and store.exists(workbook)):
        return []
    try:
        return draft_from_workbook(store.read(workbook), owner=owner).notes
    except InvalidInput:
        return []


def _upload_response(
    request: Request, tenant: tenants.Tenant, errors: FormErrors, slug: str, status: int = 0
) -> HTMLResponse:
    html = render(
        "staff/from_excel.html",
        request=request,
        tenant=tenant,
        errors=errors,
        slug=slug,
        most=MAX_WORKBOOK_MB,
    )
    return HTMLResponse(html, status_code=status or (422 if errors.items else 200))


def _review_response(
    request: Request,
    tenant: tenants.Tenant,
    typed: YamlForm,
    workbook: str,
    name: str,
    notes: list[str],
    status: int,
) -> HTMLResponse:
    html = render(
        "staff/review.html",
        request=request,
        tenant=tenant,
        form=typed,
        workbook=workbook,
        filename=name,
        notes=[language_runs(note) for note in notes],
    )
    return HTMLResponse(html, status_code=status)


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0


def _store(request: Request) -> FileStore:
    return FileStore.from_settings(request.app.state.settings)
