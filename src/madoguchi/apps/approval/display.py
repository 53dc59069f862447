"""What the document page shows: where the document stands, its history, and each signature's
status as ``check_pdf`` finds it in the stored PDF, in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.apps.approval import service
from madoguchi.apps.approval.models import ApprovalDocument, ApprovalStep, Decision, Status
from madoguchi.core.clock import format_moment
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.settings import Settings
from madoguchi.identity import officials
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.staff_access import StaffMember
from madoguchi.signatures import service as signatures

STATUSES = {
    Status.IN_REVIEW: N_("In review"),
    Status.RETURNED: N_("Returned to the drafter"),
    Status.APPROVED: N_("Approved and sealed"),
}


@dataclass(frozen=True)
class Event:
    at: str
    who: str
    what: str
    comment: str | None = None
    field_name: str | None = None


@dataclass(frozen=True)
class SignatureRow:
    field_name: str
    signer: str
    organisation: str
    signed_at: str
    valid: bool
    problems: list[str]
    note: str | None  # revoked or expired since: still valid, but said


@dataclass(frozen=True)
class StepRow:
    number: int
    role: str
    state: str
    who: str | None


@dataclass(frozen=True)
class DocumentView:
    document: ApprovalDocument
    status: str
    route: list[StepRow]
    history: list[Event]
    signatures: list[SignatureRow]
    file_problem: str | None
    valid: bool | None  # None: nothing signed yet
    waiting: ApprovalStep | None
    may_decide: bool
    refusal: str | None  # why this official may not decide the waiting step
    may_resubmit: bool


def status_label(status: str) -> str:
    return _(STATUSES[Status(status)])


async def document_view(
    db: AsyncSession, settings: Settings, staff: StaffMember, document: ApprovalDocument
) -> DocumentView:
    steps = await service.list_steps(db, document)
    rows, valid, problem = await _signatures(db, settings, document)
    refused = service.refusal(staff, document, steps)
    return DocumentView(
        document=document,
        status=status_label(document.status),
        route=[_step_row(step, document) for step in steps if step.round == document.round],
        history=history(document, steps, staff.tenant.name),
        signatures=rows,
        file_problem=problem,
        valid=valid,
        waiting=service.waiting_step(document, steps),
        may_decide=refused is None,
        refusal=None if refused is None else _(refused.message, **refused.params),
        may_resubmit=document.status == Status.RETURNED and staff.person_id == document.drafted_by,
    )


def history(
    document: ApprovalDocument, steps: Sequence[ApprovalStep], body_name: str
) -> list[Event]:
    """Drafted, each round sent, each decision and the seal, oldest first."""
    events = [Event(_when(document.created_at), document.drafter_name, _("Drafted and sent"))]
    for step in steps:
        if step.round > 1 and step.position == 0:
            what = _("Sent again (round {round})", round=step.round)
            events.append(Event(_when(step.created_at), document.drafter_name, what))
        if step.decision is not None and step.decided_at is not None:
            events.append(_decision(step))
    if document.status == Status.APPROVED and document.sealed_reference:
        what = _("Sealed by the body ({reference})", reference=document.sealed_reference)
        events.append(Event(_when(document.updated_at), body_name, what))
    return events


def _decision(step: ApprovalStep) -> Event:
    approved = step.decision == Decision.APPROVED
    what = (
        _("Approved step {number}", number=step.position + 1)
        if approved
        else _("Returned at step {number}", number=step.position + 1)
    )
    return Event(
        _when(step.decided_at or step.created_at),
        step.decider_name or "",
        what,
        comment=step.comment,
        field_name=step.field_name,
    )


def _step_row(step: ApprovalStep, document: ApprovalDocument) -> StepRow:
    role = _(officials.ROLE_NAMES[OfficialRole(step.required_role)])
    if step.decision == Decision.APPROVED:
        state = _("Approved")
    elif step.decision == Decision.REJECTED:
        state = _("Returned")
    elif document.status == Status.IN_REVIEW and step.position == document.current_step:
        state = _("Waiting for a decision")
    else:
        state = _("Not decided yet")
    return StepRow(step.position + 1, role, state, step.decider_name)


async def _signatures(
    db: AsyncSession, settings: Settings, document: ApprovalDocument
) -> tuple[list[SignatureRow], bool | None, str | None]:
    try:
        pdf = service.read_pdf(settings, document)
    except service.DocumentChanged as error:
        return [], False, _(error.message)
    if document.file_sha256 == document.source_sha256:
        return [], None, None  # the unsigned draft: nothing to check yet
    verdict = await signatures.check_document(db, settings, pdf)
    rows = [
        SignatureRow(
            field_name=check.field_name,
            signer=check.signer,
            organisation=check.organisation or "",
            signed_at=_when(check.signed_at) if check.signed_at else "—",
            valid=check.valid,
            problems=[_(p.message, **p.params) for p in check.problems],
            note=_note(check.revoked_since, check.expired_since),
        )
        for check in verdict.signatures
    ]
    problems = [_(p.message, **p.params) for p in verdict.problems]
    return rows, verdict.valid, "; ".join(problems) or None


def _note(revoked: dt.datetime | None, expired: dt.datetime | None) -> str | None:
    if revoked is not None:
        return _("The certificate was revoked after signing ({date}).", date=_when(revoked))
    if expired is not None:
        return _("The certificate has expired since ({date}).", date=_when(expired))
    return None


def _when(moment: dt.datetime) -> str:
    return format_moment(moment, current_language())
