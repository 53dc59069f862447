"""The PDF receipt of a submission, for the browser that made it (or proved its email).

Found within the body in the address only, and answered "not found" to anyone else, so ids
cannot be probed. The first download builds the receipt from what was stored and seals it with
the body's e-seal (the red 受付 stamp, a QR code of its verification page, a timestamp); the
sealed PDF is kept, and every later download gives the same bytes.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import AppSettings, Session
from madoguchi.core.errors import NotFound
from madoguchi.core.settings import Settings
from madoguchi.procedures import service as procedures
from madoguchi.signatures import service as signatures
from madoguchi.submissions import service
from madoguchi.submissions.access import check_submission_access
from madoguchi.submissions.models import Submission
from madoguchi.submissions.receipts import ReceiptFor, receipt_pdf, receipt_title
from madoguchi.submissions.signing import signature_shown
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)
MISSING = "There is no submission at this address."
KIND = "receipt"


@router.get("/bodies/{code}/submissions/{submission_id}/receipt.pdf")
async def receipt(
    request: Request, code: str, submission_id: str, session: Session, settings: AppSettings
) -> Response:
    tenant = await tenants.get_tenant(session, code)
    submission = await service.get_submission(session, _parsed(submission_id), tenant.id)
    check_submission_access(request, submission)
    pdf = await signatures.sealed_copy(session, settings, tenant.id, KIND, submission.id)
    if pdf is None:
        pdf = await _seal_new_receipt(session, settings, tenant, submission)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{submission.reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )


async def _seal_new_receipt(
    session: AsyncSession, settings: Settings, tenant: tenants.Tenant, submission: Submission
) -> bytes:
    definition = await procedures.definition_of(
        session, submission.version_tenant_id, submission.version_procedure_id, submission.version
    )
    shown = await signature_shown(session, settings, submission, tenant.code)
    signer = shown.signer_name if shown is not None and shown.valid else None
    about = ReceiptFor(tenant.name, tenant.name_en, definition, signer)
    body = signatures.Body(tenant.id, tenant.code, tenant.name)
    sealed = await signatures.seal_document(
        session,
        settings,
        body,
        receipt_pdf(submission, about),
        kind=KIND,
        title=receipt_title(submission, definition),
        subject_id=submission.id,
        seal_word="受付",
    )
    return sealed.pdf


def _parsed(submission_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(submission_id)
    except ValueError:
        raise NotFound(MISSING) from None
