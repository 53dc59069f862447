"""The submissions domain's public functions: taking in a submission, finding one.

``submit`` stores what was accepted with a fresh reference number, the version answered, and the
audit record, and queues the webhook deliveries, all in the caller's transaction. It makes one
submission per draft and per ``Idempotency-Key`` even when the same request arrives twice at
once: the insert runs in a savepoint, and a clash on either unique key returns the submission
that won.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.ids import uuid7
from madoguchi.core.reference_numbers import new_reference, parse_reference
from madoguchi.core.tenancy import enter_tenant
from madoguchi.procedures import service as procedures
from madoguchi.procedures.validation import Accepted
from madoguchi.submissions.models import Channel, Submission, SubmissionEvent, SubmissionStatus
from madoguchi.submissions.webhooks import enqueue_deliveries

REFERENCE_ATTEMPTS = 5

__all__ = [
    "Channel",
    "Intake",
    "Submission",
    "find_by_reference",
    "get_submission",
    "list_events",
    "replay_of",
    "submit",
]


@dataclass(frozen=True)
class Intake:
    """Where a submission comes from, besides its answers."""

    channel: Channel
    language: str
    actor: str  # who sent it, for the audit record: "applicant", "api", an email address
    email: str | None = None
    person_id: uuid.UUID | None = None  # the signed-in person who sent it
    acting_for: uuid.UUID | None = None  # the organisation they acted for
    draft_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    replayed: bool  # the same draft or Idempotency-Key was submitted before: this is that one


async def replay_of(
    session: AsyncSession, procedure: procedures.Procedure, intake: Intake
) -> Submitted | None:
    """The submission this draft or Idempotency-Key already made, if any (a 409 if the key
    came with different answers)."""
    earlier = await _earlier(session, procedure, intake)
    return None if earlier is None else _replay(earlier, intake)


async def submit(
    session: AsyncSession,
    procedure: procedures.Procedure,
    version: procedures.ProcedureVersion,
    accepted: Accepted,
    intake: Intake,
) -> Submitted:
    """Store a new submission; callers look for a replay first (``replay_of``), and a second
    request racing this one is caught by the unique keys and answered with the first."""
    await enter_tenant(session, procedure.tenant_id)
    now = dt.datetime.now(dt.UTC)
    for _attempt in range(REFERENCE_ATTEMPTS):
        submission = _new_submission(procedure, version, accepted, intake, now)
        try:
            async with session.begin_nested():
                session.add(submission)
                await session.flush()
        except IntegrityError:
            earlier = await replay_of(session, procedure, intake)
            if earlier is not None:  # the same request won the race a moment ago
                return earlier
            continue  # the reference was taken: draw another
        await _record(session, submission, intake, now)
        return Submitted(submission, replayed=False)
    raise RuntimeError("no free reference number after several attempts")


def _new_submission(
    procedure: procedures.Procedure,
    version: procedures.ProcedureVersion,
    accepted: Accepted,
    intake: Intake,
    now: dt.datetime,
) -> Submission:
    return Submission(
        tenant_id=procedure.tenant_id,
        id=uuid7(),
        procedure_id=procedure.id,
        version_tenant_id=version.tenant_id,
        version_procedure_id=version.procedure_id,
        version=version.version,
        reference=new_reference(),
        status=SubmissionStatus.RECEIVED.value,
        channel=intake.channel.value,
        answers=accepted.answers,
        computed=accepted.computed,
        language=intake.language,
        email=intake.email,
        person_id=intake.person_id,
        acting_for=intake.acting_for,
        draft_id=intake.draft_id,
        idempotency_key=intake.idempotency_key,
        request_hash=intake.request_hash,
        submitted_at=now,
    )


async def _record(
    session: AsyncSession, submission: Submission, intake: Intake, now: dt.datetime
) -> None:
    session.add(
        SubmissionEvent(
            tenant_id=submission.tenant_id,
            submission_id=submission.id,
            action="submitted",
            actor=intake.actor,
            details={"channel": intake.channel.value, "version": submission.version},
            at=now,
        )
    )
    await enqueue_deliveries(session, submission, now)


async def _earlier(
    session: AsyncSession, procedure: procedures.Procedure, intake: Intake
) -> Submission | None:
    if intake.draft_id is None and intake.idempotency_key is None:
        return None
    await enter_tenant(session, procedure.tenant_id)
    query = select(Submission).where(Submission.tenant_id == procedure.tenant_id)
    if intake.draft_id is not None:
        return await session.scalar(query.where(Submission.draft_id == intake.draft_id))
    if intake.idempotency_key is not None:
        return await session.scalar(
            query.where(
                Submission.procedure_id == procedure.id,
                Submission.idempotency_key == intake.idempotency_key,
            )
        )
    return None


def _replay(earlier: Submission, intake: Intake) -> Submitted:
    if intake.idempotency_key is not None and earlier.request_hash != intake.request_hash:
        raise IdempotencyMismatch(
            N_(
                "This Idempotency-Key was already used for a different submission; "
                "use a new key for new answers."
            ),
            field="Idempotency-Key",
        )
    return Submitted(earlier, replayed=True)


class IdempotencyMismatch(InvalidInput):
    code = "idempotency-key-reused"
    status = 409
    title = N_("This request conflicts with an earlier one")


async def get_submission(
    session: AsyncSession, submission_id: uuid.UUID, tenant_id: uuid.UUID | None = None
) -> Submission:
    """One submission by its id; within one tenant when ``tenant_id`` is given, else within
    the tenant the id belongs to (learnt without reading the row, see ``_tenant_of``)."""
    missing = NotFound("There is no submission with this id.", field="submission")
    wanted = tenant_id or await _tenant_of(session, submission_id)
    if wanted is None:
        raise missing
    await enter_tenant(session, wanted)
    found = await session.scalar(
        select(Submission).where(Submission.tenant_id == wanted, Submission.id == submission_id)
    )
    if found is None:
        raise missing
    return found


async def _tenant_of(session: AsyncSession, submission_id: uuid.UUID) -> uuid.UUID | None:
    """The tenant a submission belongs to. On PostgreSQL row-level security hides it until
    that tenant is entered, so a function of the tables' owner tells the tenant, and only that
    (migration 0010); SQLite has no row-level security."""
    if session.get_bind().dialect.name == "postgresql":
        lookup = text("SELECT madoguchi_tenant_of_submission(:id)")
        tenant: uuid.UUID | None = await session.scalar(lookup, {"id": submission_id})
        return tenant
    return await session.scalar(select(Submission.tenant_id).where(Submission.id == submission_id))


async def find_by_reference(
    session: AsyncSession, reference: str, tenant_id: uuid.UUID
) -> Submission:
    """One of a tenant's submissions by the reference number a person read out or typed."""
    canonical = parse_reference(reference)
    await enter_tenant(session, tenant_id)
    found = await session.scalar(
        select(Submission).where(
            Submission.tenant_id == tenant_id, Submission.reference == canonical
        )
    )
    if found is None:
        raise NotFound("No submission has the reference {reference}.", reference=canonical)
    return found


async def list_events(session: AsyncSession, submission: Submission) -> list[SubmissionEvent]:
    """A submission's audit record, oldest first."""
    await enter_tenant(session, submission.tenant_id)
    found = await session.scalars(
        select(SubmissionEvent)
        .where(
            SubmissionEvent.tenant_id == submission.tenant_id,
            SubmissionEvent.submission_id == submission.id,
        )
        .order_by(SubmissionEvent.at, SubmissionEvent.id)
    )
    return list(found)
