"""The verification API, for anyone and any system, with no credentials:

- ``POST /api/v1/verify`` with a PDF as the body (``Content-Type: application/pdf``);
- ``GET /api/v1/verify/{reference}``: the document the platform sealed under that reference.

Both answer the same verdict as the page, in the language of the request (Accept-Language).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from madoguchi.core.dependencies import AppSettings, Session
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.signatures.checking import check_document, find_sealed
from madoguchi.signatures.limits import spend_a_check
from madoguchi.signatures.verification import MAX_PDF_BYTES, SignatureCheck, Verdict
from madoguchi.signatures.wording import headline, problem_text

router = APIRouter(prefix="/api/v1", tags=["verification"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No document was sealed under this reference (problem+json)"},
    413: {"description": "The PDF is larger than 20 MB (problem+json)"},
    422: {"description": "The body is empty or the reference malformed (problem+json)"},
    429: {"description": "Too many checks from this address (problem+json)"},
}
EMPTY = N_("Send the PDF as the request body, with Content-Type: application/pdf.")


class TooLarge(MadoguchiError):
    code = "too-large"
    status = 413
    title = N_("The file is too large")


class SignatureOut(BaseModel):
    field_name: str
    signer: str = Field(description="the certificate's common name")
    organisation: str | None
    serial: str = Field(description="the certificate's serial number, hex")
    valid: bool
    signed_at: dt.datetime | None = Field(description="from the trusted timestamp")
    stated_at: dt.datetime | None = Field(description="as the signer's computer said")
    intact: bool = Field(description="the signed bytes are as they were signed")
    unchanged_after: bool = Field(description="nothing but signatures or forms added since")
    revoked_since: dt.datetime | None = Field(description="revoked after signing")
    expired_since: dt.datetime | None = Field(description="expired after signing")
    problems: list[str]


class SealedOut(BaseModel):
    reference: str
    title: str
    sealed_at: dt.datetime
    sha256: str


class VerificationOut(BaseModel):
    valid: bool = Field(description="true only when every signature is valid")
    summary: str = Field(description="the verdict in plain words")
    sha256: str = Field(description="of the file checked")
    size: int
    problems: list[str] = Field(description="about the file as a whole")
    signatures: list[SignatureOut]
    document: SealedOut | None = None


@router.post("/verify", response_model=VerificationOut, responses=PROBLEMS)
async def verify(request: Request, session: Session, settings: AppSettings) -> VerificationOut:
    """Check a signed or sealed PDF sent as the request body."""
    pdf = await _body(request)
    await spend_a_check(request, session)
    return _out(await check_document(session, settings, pdf))


@router.get("/verify/{reference}", response_model=VerificationOut, responses=PROBLEMS)
async def verify_sealed(
    request: Request, reference: str, session: Session, settings: AppSettings
) -> VerificationOut:
    """The document sealed under ``reference`` (as printed by its QR code), checked again now."""
    await spend_a_check(request, session)
    found = await find_sealed(session, settings, reference)
    document = found.document
    sealed = SealedOut(
        reference=document.reference,
        title=document.title,
        sealed_at=document.sealed_at,
        sha256=document.file_sha256,
    )
    return _out(found.verdict, sealed)


async def _body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PDF_BYTES:
            raise TooLarge("The file is larger than {limit} MB.", limit=MAX_PDF_BYTES >> 20)
    if not body:
        raise InvalidInput(EMPTY, field="body")
    return bytes(body)


def _out(verdict: Verdict, document: SealedOut | None = None) -> VerificationOut:
    return VerificationOut(
        valid=verdict.valid,
        summary=headline(verdict),
        sha256=verdict.sha256,
        size=verdict.size,
        problems=[problem_text(problem) for problem in verdict.problems],
        signatures=[_signature(check) for check in verdict.signatures],
        document=document,
    )


def _signature(check: SignatureCheck) -> SignatureOut:
    return SignatureOut(
        field_name=check.field_name,
        signer=check.signer,
        organisation=check.organisation,
        serial=check.serial,
        valid=check.valid,
        signed_at=check.signed_at,
        stated_at=check.stated_at,
        intact=check.intact,
        unchanged_after=check.unchanged_after,
        revoked_since=check.revoked_since,
        expired_since=check.expired_since,
        problems=[problem_text(problem) for problem in check.problems],
    )
