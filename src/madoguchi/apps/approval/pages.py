"""Staff pages of internal e-approval (電子決裁), under ``/staff/bodies/{code}/approvals``.

- the body's documents, and a new one: a PDF uploaded (at most 20 MB, a PDF by its content,
  not yet signed) or drafted from the template (title, addressee, text), with its route of
  1–5 approvers by role;
- one document: its PDF, where it stands, its whole history, and every signature's status as
  ``check_pdf`` finds it; the forms to approve or return it (shown only to whom may), and for
  the drafter of a returned one, to send it again (with a revised PDF or as it was).

Anyone of the body may read (viewer); drafting needs a caseworker; who may decide a step is
the service's rule (role, not the drafter, not twice), answered 403 as the staff pages do. The
body is the path's: another body's document is 404, as one that does not exist. Every form
carries the CSRF token and works without JavaScript.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from madoguchi.apps.approval import service
from madoguchi.apps.approval.checks import (
    APPROVER_ROLES,
    MAX_PDF_BYTES,
    MAX_PDF_MB,
    MAX_STEPS,
    check_route,
    check_uploaded_pdf,
)
from madoguchi.apps.approval.display import document_view, status_label
from madoguchi.apps.approval.models import Status
from madoguchi.apps.approval.template import check_draft, document_pdf
from madoguchi.core.clock import today_in_japan
from madoguchi.core.dependencies import Session, settings_of
from madoguchi.core.errors import InvalidInput
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity import officials
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.staff_access import StaffCaseworker, StaffMember, StaffViewer

router = APIRouter(prefix="/staff/bodies/{code}/approvals", include_in_schema=False)

MULTIPART_ALLOWANCE = 64 * 1024  # the other fields and the multipart framing around the file
DEFAULT_ROUTE = ("caseworker", "supervisor", "administrator", "", "")
NO_STORE = {"Cache-Control": "no-store"}
NOTICES = {
    "drafted": N_("The document was sent to its first approver."),
    "approved": N_("You approved the document; your signature was added."),
    "sealed": N_("You approved the document; it is now sealed by the body."),
    "returned": N_("The document was returned to its drafter with your comment."),
    "resubmitted": N_("The document was sent again; its route starts from the first approver."),
}


@router.get("", response_class=HTMLResponse)
async def documents_page(request: Request, session: Session, staff: StaffViewer) -> HTMLResponse:
    documents = await service.list_documents(session, staff.tenant.id)
    html = render(
        "staff/approvals/list.html",
        request=request,
        tenant=staff.tenant,
        documents=[(d, status_label(d.status)) for d in documents],
        may_draft=staff.may(OfficialRole.CASEWORKER),
    )
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/new", response_class=HTMLResponse)
async def new_page(request: Request, staff: StaffCaseworker) -> HTMLResponse:
    return _new_response(request, staff, FormErrors(), {"source": "template"})


@router.post("/new")
async def draft(request: Request, session: Session, staff: StaffCaseworker) -> Response:
    if _declared_length(request) > (MAX_PDF_MB << 20) + MULTIPART_ALLOWANCE:
        errors = FormErrors([FormError(_(TOO_LARGE, most=MAX_PDF_MB), "file", "#file")])
        return _new_response(request, staff, errors, {"source": "upload"}, status=413)
    async with request.form(max_files=1, max_fields=30) as form:
        check_csrf(request, form)
        typed = {name: _text(form, name) for name in FIELDS}
        errors = FormErrors()
        route = errors.attempt(lambda: check_route([typed[f"step_{n}"] for n in _numbers()]))
        made = await _pdf_of(request, session, staff, form, typed, errors)
    if route is None or made is None or errors.items:
        return _new_response(request, staff, errors, typed)
    title, pdf, name = made
    settings = settings_of(request)
    document = await service.do_draft(session, settings, staff, title, pdf, name, route)
    return _to_document(staff, str(document.id), "drafted")


@router.get("/{document_id}", response_class=HTMLResponse)
async def document_page(
    request: Request, document_id: str, session: Session, staff: StaffViewer, done: str = ""
) -> HTMLResponse:
    notice = _(NOTICES[done]) if done in NOTICES else None
    return await _document_response(request, session, staff, document_id, notice=notice)


@router.get("/{document_id}/document.pdf")
async def document_file(
    request: Request, document_id: str, session: Session, staff: StaffViewer
) -> Response:
    document = await service.get_document(session, staff.tenant.id, document_id)
    pdf = service.read_pdf(settings_of(request), document)
    disposition = f'attachment; filename="approval-{document.id}.pdf"'
    headers = {"Content-Disposition": disposition, **NO_STORE}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post("/{document_id}/approve")
async def approve(
    request: Request, document_id: str, session: Session, staff: StaffViewer
) -> Response:
    form = await request.form()
    check_csrf(request, form)
    document = await service.get_document(session, staff.tenant.id, document_id, lock=True)
    round_number, position = _step_of(form)
    settings = settings_of(request)
    await service.do_approve(session, settings, staff, document, round_number, position)
    done = "sealed" if document.status == Status.APPROVED else "approved"
    return _to_document(staff, document_id, done)


@router.post("/{document_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request, document_id: str, session: Session, staff: StaffViewer
) -> Response:
    form = await request.form()
    check_csrf(request, form)
    document = await service.get_document(session, staff.tenant.id, document_id, lock=True)
    round_number, position = _step_of(form)
    comment = _text(form, "comment")
    try:
        await service.do_reject(session, staff, document, round_number, position, comment)
    except InvalidInput as error:
        errors = FormErrors([FormError.of(error)])
        return await _document_response(
            request, session, staff, document_id, errors=errors, comment=comment, status=422
        )
    return _to_document(staff, document_id, "returned")


@router.post("/{document_id}/resubmit", response_class=HTMLResponse)
async def resubmit(
    request: Request, document_id: str, session: Session, staff: StaffViewer
) -> Response:
    if _declared_length(request) > (MAX_PDF_MB << 20) + MULTIPART_ALLOWANCE:
        errors = FormErrors([FormError(_(TOO_LARGE, most=MAX_PDF_MB), "file", "#file")])
        return await _document_response(
            request, session, staff, document_id, errors=errors, status=413
        )
    async with request.form(max_files=1, max_fields=20) as form:
        check_csrf(request, form)
        document = await service.get_document(session, staff.tenant.id, document_id, lock=True)
        upload = form.get("file")
        revised: bytes | None = None
        name = document.file_name
        if isinstance(upload, UploadFile) and upload.filename:
            name = upload.filename
            try:
                data = await upload.read(MAX_PDF_BYTES + 1)
                revised = await check_uploaded_pdf(session, settings_of(request), data, name)
            except InvalidInput as error:
                errors = FormErrors([FormError.of(error)])
                return await _document_response(
                    request, session, staff, document_id, errors=errors, status=422
                )
    settings = settings_of(request)
    await service.do_resubmit(session, settings, staff, document, revised, name)
    return _to_document(staff, document_id, "resubmitted")


# --- the new document's form ------------------------------------------------------------------

TOO_LARGE = N_("The file is larger than {most} MB.")
FIELDS = ("source", "title", "addressee", "text", *(f"step_{n}" for n in range(1, 6)))


def _numbers() -> range:
    return range(1, MAX_STEPS + 1)


async def _pdf_of(
    request: Request,
    session: AsyncSession,
    staff: StaffMember,
    form: FormData,
    typed: dict[str, str],
    errors: FormErrors,
) -> tuple[str, bytes, str] | None:
    """The title, the PDF and its file name, from the upload or the template."""
    if typed["source"] == "upload":
        return await _uploaded(request, session, form, typed, errors)
    draft = errors.attempt(lambda: check_draft(typed["title"], typed["addressee"], typed["text"]))
    if draft is None:
        return None
    pdf = document_pdf(draft, staff.tenant.name, today_in_japan())
    return draft.title, pdf, f"{draft.title}.pdf"


async def _uploaded(
    request: Request,
    session: AsyncSession,
    form: FormData,
    typed: dict[str, str],
    errors: FormErrors,
) -> tuple[str, bytes, str] | None:
    title = typed["title"].strip()
    if not title:
        errors.items.append(FormError(_("Enter the document's title."), "title", "#title"))
    elif len(title) > 100:
        message = _("Enter at most {most} characters.", most=100)
        errors.items.append(FormError(message, "title", "#title"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.items.append(FormError(_("Choose a PDF file to upload."), "file", "#file"))
        return None
    data = await upload.read(MAX_PDF_BYTES + 1)
    try:
        pdf = await check_uploaded_pdf(session, settings_of(request), data, upload.filename)
    except InvalidInput as error:
        errors.items.append(FormError.of(error))
        return None
    return title, pdf, upload.filename


def _new_response(
    request: Request,
    staff: StaffMember,
    errors: FormErrors,
    typed: dict[str, str],
    status: int = 0,
) -> HTMLResponse:
    chosen = {f"step_{n}": typed.get(f"step_{n}", DEFAULT_ROUTE[n - 1]) for n in _numbers()}
    html = render(
        "staff/approvals/new.html",
        request=request,
        tenant=staff.tenant,
        errors=errors,
        typed={**typed, **chosen},
        roles=[(role.value, officials.ROLE_NAMES[role]) for role in APPROVER_ROLES],
        steps=list(_numbers()),
        most=MAX_PDF_MB,
    )
    return HTMLResponse(html, status_code=status or (422 if errors.items else 200))


# --- one document -----------------------------------------------------------------------------


async def _document_response(
    request: Request,
    session: AsyncSession,
    staff: StaffMember,
    document_id: str,
    *,
    errors: FormErrors | None = None,
    notice: str | None = None,
    comment: str = "",
    status: int = 200,
) -> HTMLResponse:
    document = await service.get_document(session, staff.tenant.id, document_id)
    view = await document_view(session, settings_of(request), staff, document)
    html = render(
        "staff/approvals/document.html",
        request=request,
        tenant=staff.tenant,
        view=view,
        errors=errors or FormErrors(),
        notice=notice,
        comment=comment,
        most=MAX_PDF_MB,
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _step_of(form: FormData) -> tuple[int, int]:
    """The round and the step the form was shown for (so a decision meant for one step is
    never applied to the next)."""
    try:
        return int(_text(form, "round")), int(_text(form, "step"))
    except ValueError:
        raise InvalidInput(
            N_("The form is incomplete: open the document again."), field="step"
        ) from None


def _to_document(staff: StaffMember, document_id: str, done: str) -> RedirectResponse:
    target = f"/staff/bodies/{staff.tenant.code}/approvals/{document_id}?done={done}"
    return RedirectResponse(target, status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0
