"""Verification for anyone, with no account: ``/verify``.

- ``GET /verify``: upload a PDF, or type the reference printed under a seal's QR code;
- ``POST /verify``: the verdict on an uploaded PDF (nothing of it is kept);
- ``GET /verify/{reference}``: what the platform sealed under that reference — by whom, when,
  its fingerprint, and the verdict on the copy the platform kept. It does not show the document
  itself: a reference is printed on paper, and the content is for those who hold the document.
  Uploading a copy there says whether it is that very document.

Every check costs a PDF parse and a few signature checks, so checks are counted per client
address (``signatures.limits``), the page of a reference too (it checks the kept copy).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from madoguchi.core.dependencies import AppSettings, Session
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.reference_numbers import parse_reference
from madoguchi.core.sessions import check_csrf
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.signatures.checking import Found, check_document, find_sealed
from madoguchi.signatures.limits import spend_a_check
from madoguchi.signatures.verification import MAX_PDF_BYTES, Verdict
from madoguchi.signatures.wording import describe, file_problems, headline, moment_text

router = APIRouter(include_in_schema=False)
MULTIPART_ALLOWANCE = 64 * 1024
CHOOSE = N_("Choose a PDF file to check.")
TOO_LARGE = N_("The file is larger than {limit} MB.")


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request) -> HTMLResponse:
    return _page(request, FormErrors())


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(request: Request, session: Session, settings: AppSettings) -> Response:
    if _declared_length(request) > MAX_PDF_BYTES + MULTIPART_ALLOWANCE:
        return _page(request, _error("file", TOO_LARGE, limit=MAX_PDF_BYTES >> 20), 413)
    async with request.form(max_files=1, max_fields=5) as form:
        check_csrf(request, form)
        if not isinstance(form.get("file"), UploadFile) and form.get("reference"):
            return _to_reference(request, str(form.get("reference")))
        pdf, errors = await _uploaded(form)
    if pdf is None:
        return _page(request, errors, 422)
    await spend_a_check(request, session)
    verdict = await check_document(session, settings, pdf)
    return _result(request, "signatures/verified.html", verdict)


@router.get("/verify/{reference}", response_class=HTMLResponse)
async def sealed_document(
    request: Request, reference: str, session: Session, settings: AppSettings
) -> Response:
    await spend_a_check(request, session)
    found = await _found(session, settings, reference)
    return _result(request, "signatures/sealed.html", found.verdict, found=found)


@router.post("/verify/{reference}", response_class=HTMLResponse)
async def compare_copy(
    request: Request, reference: str, session: Session, settings: AppSettings
) -> Response:
    await spend_a_check(request, session)
    found = await _found(session, settings, reference)
    async with request.form(max_files=1, max_fields=5) as form:
        check_csrf(request, form)
        pdf, errors = await _uploaded(form)
    if pdf is None:
        return _result(request, "signatures/sealed.html", found.verdict, found=found, errors=errors)
    same = found.document.file_sha256 == hashlib.sha256(pdf).hexdigest()  # no check needed
    return _result(request, "signatures/sealed.html", found.verdict, found=found, same=same)


async def _found(session: AsyncSession, settings: Settings, reference: str) -> Found:
    return await find_sealed(session, settings, reference)


def _to_reference(request: Request, typed: str) -> Response:
    try:
        reference = parse_reference(typed, "reference")
    except InvalidInput as error:
        return _page(request, FormErrors([FormError.of(error)]), 422)
    return RedirectResponse(f"/verify/{reference}", status_code=303)


async def _uploaded(form: FormData) -> tuple[bytes | None, FormErrors]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, _error("file", CHOOSE)
    data = await upload.read(MAX_PDF_BYTES + 1)
    if len(data) > MAX_PDF_BYTES:
        return None, _error("file", TOO_LARGE, limit=MAX_PDF_BYTES >> 20)
    return data, FormErrors()


def _error(field: str, message: str, **params: object) -> FormErrors:
    error = MadoguchiError(message, field=field, **params)
    return FormErrors([FormError.of(error)])


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length", "0"))
    except ValueError:
        return 0


def _page(request: Request, errors: FormErrors, status: int = 200) -> HTMLResponse:
    html = render(
        "signatures/verify.html", request=request, errors=errors, limit=MAX_PDF_BYTES >> 20
    )
    return HTMLResponse(html, status_code=status)


def _result(
    request: Request, template: str, verdict: Verdict, status: int = 200, **context: object
) -> HTMLResponse:
    html = render(
        template,
        request=request,
        verdict=verdict,
        headline=headline(verdict),
        file_problems=file_problems(verdict),
        signatures=[describe(check) for check in verdict.signatures],
        moment_text=moment_text,
        limit=MAX_PDF_BYTES >> 20,
        errors=context.pop("errors", FormErrors()),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
