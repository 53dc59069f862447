"""The PDF receipt of a submission, for the browser that made it (or proved its email).

Found within the body in the address only, and answered "not found" to anyone else, so ids
cannot be probed. The PDF is built on request from what was stored: the same bytes each time.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import NotFound
from madoguchi.procedures import service as procedures
from madoguchi.submissions import service
from madoguchi.submissions.access import check_submission_access
from madoguchi.submissions.receipts import ReceiptFor, receipt_pdf
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)
MISSING = "There is no submission at this address."


@router.get("/bodies/{code}/submissions/{submission_id}/receipt.pdf")
async def receipt(request: Request, code: str, submission_id: str, session: Session) -> Response:
    tenant = await tenants.get_tenant(session, code)
    submission = await service.get_submission(session, _parsed(submission_id), tenant.id)
    check_submission_access(request, submission)
    definition = await procedures.definition_of(
        session, submission.version_tenant_id, submission.version_procedure_id, submission.version
    )
    about = ReceiptFor(tenant.name, tenant.name_en, definition)
    return Response(
        receipt_pdf(submission, about),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="receipt-{submission.reference}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _parsed(submission_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(submission_id)
    except ValueError:
        raise NotFound(MISSING) from None
