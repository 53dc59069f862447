"""Staff downloads of a procedure's submissions: CSV, XLSX, JSON, and the original Excel layout.

The body code and the slug find the procedure within that body only, so one body's staff
address never reaches another body's submissions. The filters are those of the staff list
(``from``, ``to``, ``q``). The streamed formats read in a session of their own, because the
response body is sent after the request's unit of work has ended.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import in_japan
from madoguchi.core.dependencies import Session
from madoguchi.core.files import FileStore
from madoguchi.identity import audit
from madoguchi.identity.staff_access import StaffCaseworker, StaffMember
from madoguchi.procedures import service as procedures
from madoguchi.submissions.exports import (
    MEDIA_TYPES,
    XLSX_MEDIA_TYPE,
    attachment,
    export_layout,
    in_template,
    submissions_in_own_session,
)
from madoguchi.submissions.queries import Filters, parse_filters, to_query

router = APIRouter(include_in_schema=False)
BASE = "/staff/bodies/{code}/procedures/{slug}/submissions"


@router.get(BASE + ".csv")
async def export_csv(
    request: Request, session: Session, staff: StaffCaseworker, code: str, slug: str
) -> StreamingResponse:
    return await _streamed(request, session, staff, code, slug, "csv")


@router.get(BASE + ".xlsx")
async def export_xlsx(
    request: Request, session: Session, staff: StaffCaseworker, code: str, slug: str
) -> StreamingResponse:
    return await _streamed(request, session, staff, code, slug, "xlsx")


@router.get(BASE + ".json")
async def export_json(
    request: Request, session: Session, staff: StaffCaseworker, code: str, slug: str
) -> StreamingResponse:
    return await _streamed(request, session, staff, code, slug, "json")


@router.get(BASE + "/in-template.xlsx")
async def export_in_template(
    request: Request, session: Session, staff: StaffCaseworker, code: str, slug: str
) -> Response:
    filters = parse_filters(request.query_params)
    procedure = await procedures.get_procedure(session, code, slug)
    await _record_export(session, staff, procedure, "in-template", filters)
    store = FileStore.from_settings(request.app.state.settings)
    data = await in_template(session, store, procedure, filters)
    name = _file_name(slug, "in-template", "xlsx")
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": attachment(name, name), "Cache-Control": "no-store"},
    )


async def _streamed(
    request: Request, session: Session, staff: StaffMember, code: str, slug: str, kind: str
) -> StreamingResponse:
    filters = parse_filters(request.query_params)
    procedure = await procedures.get_procedure(session, code, slug)
    await _record_export(session, staff, procedure, kind, filters)
    layout = await export_layout(session, procedure)
    media_type, produce = MEDIA_TYPES[kind]
    rows = submissions_in_own_session(
        request.app.state.session_factory, procedure.tenant_id, procedure.id, filters
    )
    name = _file_name(layout.title, "submissions", kind)
    return StreamingResponse(
        produce(layout, rows),
        media_type=media_type,
        headers={
            "Content-Disposition": attachment(name, _file_name(slug, "submissions", kind)),
            "Cache-Control": "no-store",  # personal data: never kept by a shared cache
        },
    )


async def _record_export(
    session: AsyncSession,
    staff: StaffMember,
    procedure: procedures.Procedure,
    kind: str,
    filters: Filters,
) -> None:
    """An export is a read of everyone's answers: the tenant's audit chain says who, what, when."""
    await audit.append(
        session,
        actor=staff.actor,
        action="submissions.exported",
        tenant_id=procedure.tenant_id,
        purpose="staff export",
        subject=f"procedure:{procedure.id}",
        details={"format": kind, "filters": to_query(filters)},
    )


def _file_name(stem: str, what: str, extension: str) -> str:
    """``<title or slug>-<what>-<date in Japan>.<extension>``, safe as a file name."""
    today = in_japan(dt.datetime.now(dt.UTC)).date().isoformat()
    safe = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in stem)
    return f"{safe}-{what}-{today}.{extension}"
