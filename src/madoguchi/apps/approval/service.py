"""Internal e-approval (電子決裁): drafting a document, approving or returning it step by step,
sending a returned one again, and the body's seal at the end.

A document is routed through 1–5 steps, each needing an official of at least a role. Only an
official of the body with that role may decide the step waiting, never the drafter, and no one
twice in a round: so a route of three steps is three people. Each approval is the approver's
own PAdES B-LT signature (``signatures.service.signing_identity_of_official``), added as an
incremental update; the first certifies the document (DocMDP, form filling allowed) so that
the later approvals and the seal keep it valid. The last approval also seals it as the body,
with 決裁 on the stamp. A return needs a comment and sends the document back to its drafter,
who may upload a revised PDF and send it again: a new round starts from the unsigned draft.

Before a signature is added, the stored PDF is read back against its checksum and, once it
carries signatures, checked: a file changed on disk is refused, never signed over. Every
decision is written to the body's audit chain in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.apps.approval.checks import check_comment
from madoguchi.apps.approval.models import ApprovalDocument, ApprovalStep, Decision, Status
from madoguchi.core.errors import MadoguchiError, NotFound
from madoguchi.core.files import CorruptFile, FileStore
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity import audit, officials
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.staff_access import NotPermitted, StaffMember
from madoguchi.signatures import service as signatures

PURPOSE = "e-approval"


class StepDecided(MadoguchiError):
    """The form was for a step that is no longer waiting (someone decided it meanwhile)."""

    code = "approval-step-decided"
    status = 409
    title = N_("Already decided")


class DocumentChanged(MadoguchiError):
    """The stored PDF is not the one the approvals so far signed."""

    code = "approval-document-changed"
    status = 409
    title = N_("The document was changed")


# --- reading ---------------------------------------------------------------------------------


async def list_documents(db: AsyncSession, tenant_id: uuid.UUID) -> list[ApprovalDocument]:
    found = await db.scalars(
        select(ApprovalDocument)
        .where(ApprovalDocument.tenant_id == tenant_id)
        .order_by(ApprovalDocument.created_at.desc(), ApprovalDocument.id.desc())
    )
    return list(found)


async def get_document(
    db: AsyncSession, tenant_id: uuid.UUID, document_id: str, *, lock: bool = False
) -> ApprovalDocument:
    """The body's document; another body's is not found, exactly as one that does not exist."""
    try:
        wanted = uuid.UUID(document_id)
    except ValueError:
        raise NotFound(N_("There is no such document."), field="document") from None
    query = select(ApprovalDocument).where(
        ApprovalDocument.tenant_id == tenant_id, ApprovalDocument.id == wanted
    )
    found = await db.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(N_("There is no such document."), field="document")
    return found


async def list_steps(db: AsyncSession, document: ApprovalDocument) -> list[ApprovalStep]:
    """Every round's steps, in order: the document's history."""
    found = await db.scalars(
        select(ApprovalStep)
        .where(
            ApprovalStep.tenant_id == document.tenant_id,
            ApprovalStep.document_id == document.id,
        )
        .order_by(ApprovalStep.round, ApprovalStep.position)
    )
    return list(found)


def read_pdf(settings: Settings, document: ApprovalDocument) -> bytes:
    """The current PDF, as stored; DocumentChanged when it no longer matches its checksum."""
    try:
        return FileStore.from_settings(settings).read(document.file_sha256)
    except (CorruptFile, NotFound):
        raise DocumentChanged(
            N_("The stored document does not match what was signed: it was changed or lost.")
        ) from None


def waiting_step(document: ApprovalDocument, steps: Sequence[ApprovalStep]) -> ApprovalStep | None:
    if document.status != Status.IN_REVIEW:
        return None
    for step in steps:
        if step.round == document.round and step.position == document.current_step:
            return step
    return None


def refusal(
    staff: StaffMember, document: ApprovalDocument, steps: Sequence[ApprovalStep]
) -> NotPermitted | None:
    """Why ``staff`` may not decide the step waiting; None when they may."""
    step = waiting_step(document, steps)
    if step is None:
        return NotPermitted(N_("No step of this document is waiting for a decision."))
    if staff.person_id == document.drafted_by:
        return NotPermitted(N_("The drafter of a document may not approve or return it."))
    required = OfficialRole(step.required_role)
    if staff.role is None or not staff.role.at_least(required):
        return NotPermitted(
            N_("This step needs an official with the role {role} or higher."),
            role=officials.ROLE_NAMES[required],
        )
    if any(s.round == document.round and s.decided_by == staff.person_id for s in steps):
        return NotPermitted(N_("You have already approved this document in this round."))
    return None


# --- decisions -------------------------------------------------------------------------------


async def do_draft(
    db: AsyncSession,
    settings: Settings,
    staff: StaffMember,
    title: str,
    pdf: bytes,
    file_name: str,
    route: Sequence[OfficialRole],
) -> ApprovalDocument:
    """A new document from ``pdf`` (checked), sent at once to the first step of ``route``."""
    now = _now()
    stored = FileStore.from_settings(settings).store(pdf)
    document = ApprovalDocument(
        tenant_id=staff.tenant.id,
        title=title[:200],
        drafted_by=staff.person_id,
        drafter_name=staff.name[:200],
        status=Status.IN_REVIEW.value,
        round=1,
        current_step=0,
        source_sha256=stored.sha256,
        file_sha256=stored.sha256,
        file_name=file_name[:200],
        created_at=now,
        updated_at=now,
    )
    db.add(document)
    await db.flush()
    _add_round(db, document, route, now)
    await _audit(db, staff, document, "approval.drafted", steps=",".join(route))
    return document


async def do_approve(
    db: AsyncSession,
    settings: Settings,
    staff: StaffMember,
    document: ApprovalDocument,
    round_number: int,
    position: int,
) -> ApprovalDocument:
    """The waiting step approved with ``staff``'s signature; the last one also seals."""
    steps = await list_steps(db, document)
    step = _the_waiting_step(document, steps, round_number, position)
    _check_may_decide(staff, document, steps)
    pdf = await _pdf_as_signed_so_far(db, settings, document, position)
    certify = position == 0  # DocMDP: later approvals and the seal keep this one valid
    if certify:  # the seal's field first, so that the certification allows filling it
        document.sealed_reference, pdf = signatures.reserve_seal(pdf)
    body = _body_of(staff)
    signed = await _signed_by(db, settings, staff, body, document, pdf, position, certify)
    _decide(step, staff, Decision.APPROVED, field_name=_field_name(document, position))
    document.file_sha256 = FileStore.from_settings(settings).store(signed).sha256
    document.updated_at = step.decided_at or _now()
    await _audit(db, staff, document, "approval.approved", step=str(position + 1))
    if position + 1 < _steps_in_round(steps, document.round):
        document.current_step = position + 1
        return document
    return await _seal(db, settings, staff, body, document, signed)


async def do_reject(
    db: AsyncSession,
    staff: StaffMember,
    document: ApprovalDocument,
    round_number: int,
    position: int,
    comment: str,
) -> ApprovalDocument:
    """The waiting step returned to the drafter with ``comment`` (required)."""
    steps = await list_steps(db, document)
    step = _the_waiting_step(document, steps, round_number, position)
    _check_may_decide(staff, document, steps)
    text = check_comment(comment)
    _decide(step, staff, Decision.REJECTED, comment=text)
    document.status = Status.RETURNED.value
    document.updated_at = step.decided_at or _now()
    await _audit(db, staff, document, "approval.returned", step=str(position + 1))
    return document


async def do_resubmit(
    db: AsyncSession,
    settings: Settings,
    staff: StaffMember,
    document: ApprovalDocument,
    pdf: bytes | None,
    file_name: str,
) -> ApprovalDocument:
    """A returned document sent again by its drafter, revised (``pdf``) or as it was: a new
    round of the same route starts from the unsigned draft."""
    if document.status != Status.RETURNED:
        raise StepDecided(N_("Only a returned document can be sent again."))
    if staff.person_id != document.drafted_by:
        raise NotPermitted(N_("Only the drafter may send a returned document again."))
    steps = await list_steps(db, document)
    route = [OfficialRole(s.required_role) for s in steps if s.round == document.round]
    now = _now()
    if pdf is not None:
        document.source_sha256 = FileStore.from_settings(settings).store(pdf).sha256
        document.file_name = file_name[:200]
    document.file_sha256, document.sealed_reference = document.source_sha256, None
    document.round, document.current_step = document.round + 1, 0
    document.status, document.updated_at = Status.IN_REVIEW.value, now
    _add_round(db, document, route, now)
    await _audit(db, staff, document, "approval.resubmitted", revised=str(pdf is not None))
    return document


# --- the parts of a decision -----------------------------------------------------------------


def _add_round(
    db: AsyncSession, document: ApprovalDocument, route: Sequence[OfficialRole], now: dt.datetime
) -> None:
    for position, role in enumerate(route):
        db.add(
            ApprovalStep(
                tenant_id=document.tenant_id,
                document_id=document.id,
                round=document.round,
                position=position,
                required_role=role.value,
                created_at=now,
            )
        )


def _the_waiting_step(
    document: ApprovalDocument, steps: Sequence[ApprovalStep], round_number: int, position: int
) -> ApprovalStep:
    """The step the form was for, if it is still the one waiting."""
    step = waiting_step(document, steps)
    if step is None or (step.round, step.position) != (round_number, position):
        raise StepDecided(N_("This step was already decided. See where the document is now."))
    return step


def _check_may_decide(
    staff: StaffMember, document: ApprovalDocument, steps: Sequence[ApprovalStep]
) -> None:
    refused = refusal(staff, document, steps)
    if refused is not None:
        raise refused


async def _pdf_as_signed_so_far(
    db: AsyncSession, settings: Settings, document: ApprovalDocument, position: int
) -> bytes:
    """The stored PDF, refused unless it is the draft with exactly this round's approvals so
    far, each valid."""
    pdf = read_pdf(settings, document)
    if position == 0:
        if document.file_sha256 != document.source_sha256:
            raise DocumentChanged(N_("The document is not the draft this round started from."))
        return pdf
    verdict = await signatures.check_document(db, settings, pdf)
    if not verdict.valid or len(verdict.signatures) != position:
        raise DocumentChanged(
            N_("The document's signatures so far do not verify: it was changed after signing.")
        )
    return pdf


async def _signed_by(
    db: AsyncSession,
    settings: Settings,
    staff: StaffMember,
    body: signatures.Body,
    document: ApprovalDocument,
    pdf: bytes,
    position: int,
    certify: bool,
) -> bytes:
    identity = await signatures.signing_identity_of_official(
        db, settings, body, staff.person_id, staff.name
    )
    request = signatures.SignatureRequest(
        identity=identity,
        field_name=_field_name(document, position),
        signer_name=staff.name,
        reason=f"決裁 {document.title}"[:200],
        location=body.name,
        certify=certify,  # DocMDP: later approvals and the seal keep it valid
    )
    proof = await signatures.evidence(db, settings)
    stamper = await signatures.timestamper(db, settings)
    return await signatures.add_signature(pdf, request, proof, stamper)


async def _seal(
    db: AsyncSession,
    settings: Settings,
    staff: StaffMember,
    body: signatures.Body,
    document: ApprovalDocument,
    signed: bytes,
) -> ApprovalDocument:
    sealed = await signatures.seal_document(
        db,
        settings,
        body,
        signed,
        kind="approval",
        title=document.title,
        subject_id=document.id,
        seal_word="決裁",
        reference=document.sealed_reference,
    )
    document.file_sha256 = sealed.document.file_sha256
    document.sealed_reference = sealed.document.reference
    document.status = Status.APPROVED.value
    await _audit(db, staff, document, "approval.sealed", reference=sealed.document.reference)
    return document


def _decide(
    step: ApprovalStep,
    staff: StaffMember,
    decision: Decision,
    *,
    field_name: str | None = None,
    comment: str | None = None,
) -> None:
    step.decision = decision.value
    step.decided_by = staff.person_id
    step.decider_name = staff.name[:200]
    step.decided_at = _now()
    step.field_name = field_name
    step.comment = comment


def _field_name(document: ApprovalDocument, position: int) -> str:
    return f"Approval-{document.round}-{position + 1}"


def _steps_in_round(steps: Sequence[ApprovalStep], round_number: int) -> int:
    return sum(1 for step in steps if step.round == round_number)


def _body_of(staff: StaffMember) -> signatures.Body:
    return signatures.Body(staff.tenant.id, staff.tenant.code, staff.tenant.name)


async def _audit(
    db: AsyncSession, staff: StaffMember, document: ApprovalDocument, action: str, **details: str
) -> None:
    await audit.append(
        db,
        actor=staff.actor,
        action=action,
        tenant_id=document.tenant_id,
        purpose=PURPOSE,
        subject=f"approval:{document.id}",
        details={"title": document.title, "round": str(document.round), **details},
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
