"""Revealing one My Number of a submission to staff, with a declared purpose and a reason.

The GET shows a form: which of the submission's My Numbers (masked), the purpose (one the My
Number Act allows) and the reason. The POST checks the form token, reveals the number through
``identity.my_number.reveal_my_number`` — which writes the audit event (who, the body, the
purpose, when, the submission and question; never the number) — and shows it once, on a page that
is never stored (``Cache-Control: no-store``). Nothing here logs the number.

Who may reveal: a supervisor (or an administrator) of the body (``StaffSupervisor``), or a
platform administrator; the check also enters the body's tenant for the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.forms import FormErrors, check_length
from madoguchi.core.my_number_keys import MyNumberPurpose, key_ring
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.my_number import REASON_MAX, reveal_my_number
from madoguchi.identity.staff_access import StaffSupervisor
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition, Group, Guidance
from madoguchi.submissions import service
from madoguchi.submissions.models import Submission
from madoguchi.submissions.my_number import StoredMyNumber, stored_my_numbers
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/staff/bodies/{code}/submissions", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/{submission_id}/my-number", response_class=HTMLResponse)
async def reveal_form(
    request: Request, code: str, submission_id: str, session: Session, staff: StaffSupervisor
) -> HTMLResponse:
    tenant, submission = await _submission(session, staff.tenant, submission_id)
    numbers = await _numbers(session, submission)
    return _form(request, tenant, submission, numbers, FormErrors(), {})


@router.post("/{submission_id}/my-number", response_class=HTMLResponse)
async def reveal_number(
    request: Request, code: str, submission_id: str, session: Session, staff: StaffSupervisor
) -> HTMLResponse:
    form = await request.form()
    check_csrf(request, form)
    tenant, submission = await _submission(session, staff.tenant, submission_id)
    numbers = await _numbers(session, submission)
    errors = FormErrors()
    chosen = errors.attempt(lambda: _chosen(form, numbers))
    purpose = errors.attempt(lambda: _purpose(form))
    reason = errors.attempt(lambda: _reason(form))
    if chosen is None or purpose is None or reason is None:
        return _form(request, tenant, submission, numbers, errors, form, status=422)
    digits = await reveal_my_number(
        session,
        actor=staff.actor,
        tenant_id=tenant.id,
        purpose=purpose,
        sealed=chosen[1].sealed,
        subject=f"submission:{submission.id}/question:{chosen[1].path}",
        keys=key_ring(request.app.state.settings),
        reason=reason,
    )
    html = render(
        "staff/my_number_shown.html",
        request=request,
        tenant=tenant,
        submission=submission,
        label=chosen[0],
        purpose=purpose,
        digits=" ".join([digits[:4], digits[4:8], digits[8:]]),
    )
    return HTMLResponse(html, headers=NO_STORE)


Labelled = tuple[str, StoredMyNumber]


def _form(
    request: Request,
    tenant: tenants.Tenant,
    submission: Submission,
    numbers: list[Labelled],
    errors: FormErrors,
    form: FormData | dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    html = render(
        "staff/my_number.html",
        request=request,
        tenant=tenant,
        submission=submission,
        numbers=numbers,
        purposes=list(MyNumberPurpose),
        errors=errors,
        chosen=str(form.get("number") or (numbers[0][1].path if len(numbers) == 1 else "")),
        purpose=str(form.get("purpose") or ""),
        reason=str(form.get("reason") or ""),
        reason_max=REASON_MAX,
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _chosen(form: FormData, numbers: list[Labelled]) -> Labelled:
    wanted = form.get("number")
    if len(numbers) == 1 and not wanted:
        return numbers[0]
    for labelled in numbers:
        if labelled[1].path == wanted:
            return labelled
    raise InvalidInput("Choose the My Number to reveal.", field="number")


def _purpose(form: FormData) -> MyNumberPurpose:
    try:
        return MyNumberPurpose(str(form.get("purpose") or ""))
    except ValueError:
        raise InvalidInput(
            "Choose the purpose the My Number is needed for.", field="purpose"
        ) from None


def _reason(form: FormData) -> str:
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise InvalidInput(
            "State the reason: which task needs the number, such as a case or file number.",
            field="reason",
        )
    return check_length(reason, "reason", REASON_MAX)


async def _submission(
    session: AsyncSession, tenant: tenants.Tenant, submission_id: str
) -> tuple[tenants.Tenant, Submission]:
    """The body's own submission; another body's is not found, as one that does not exist."""
    try:
        wanted = uuid.UUID(submission_id)
    except ValueError:
        raise NotFound("There is no submission with this id.", field="submission") from None
    return tenant, await service.get_submission(session, wanted, tenant_id=tenant.id)


async def _numbers(session: AsyncSession, submission: Submission) -> list[Labelled]:
    """The submission's My Numbers, each with its question's label (and item, in a group)."""
    definition = await procedures.definition_of(
        session, submission.version_tenant_id, submission.version_procedure_id, submission.version
    )
    labels = dict(_labels(definition))
    return [(_label(labels, n.path), n) for n in stored_my_numbers(submission.answers)]


def _labels(definition: Definition) -> Iterator[tuple[str, str]]:
    for page in definition.pages:
        for question in page.questions:
            if isinstance(question, Guidance):
                continue
            yield question.id, str(question.label)
            if isinstance(question, Group):
                for inner in question.questions:
                    if not isinstance(inner, Guidance):
                        yield inner.id, str(inner.label)


def _label(labels: dict[str, str], path: str) -> str:
    """ "Spouse (2): My Number" for ``spouse[1].my_number``; the question's label otherwise."""
    if "[" not in path:
        return labels.get(path, path)
    group, rest = path.split("[", 1)
    index, inner = rest.split("].", 1)
    return f"{labels.get(group, group)} ({int(index) + 1}): {labels.get(inner, inner)}"
