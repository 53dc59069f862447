"""Tables of submissions: drafts, submissions with their audit records, webhooks and deliveries.

Every table is tenant-owned: ``tenant_id`` is the body that offers the procedure (for an adopted
national template, the adopting municipality, which receives the submissions) and leads every
key. A submission names the version it was made against by the version's own key, which for an
adopted template lies in the ministry's tenant, so it is a plain reference, not a foreign key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


def _procedure_key(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "procedure_id"],
        ["procedures.tenant_id", "procedures.id"],
        name=f"fk_{table}_procedure",
        ondelete="CASCADE",
    )


def _created() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Draft(Base):
    """What an applicant has typed so far. The whole content is one AES-GCM token (``sealed``):
    answers, and what was typed on a page that did not pass its checks yet, so nothing is lost."""

    __tablename__ = "drafts"
    __table_args__ = (_procedure_key("drafts"), Index("ix_drafts_expires_at", "expires_at"))

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    procedure_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sealed: Mapped[str] = mapped_column(Text)
    current_page: Mapped[str | None] = mapped_column(String(64))
    # The address a resume link was sent to: whoever proves it may resume the draft.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # The signed-in person who started it (identity's people.id), if anyone was signed in.
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submission_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class SubmissionStatus(StrEnum):
    RECEIVED = "received"


class Channel(StrEnum):
    """How a submission arrived."""

    WEB = "web"
    API = "api"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        _procedure_key("submissions"),
        UniqueConstraint("reference"),
        UniqueConstraint("tenant_id", "draft_id"),
        UniqueConstraint("tenant_id", "procedure_id", "idempotency_key"),
        Index("ix_submissions_procedure_submitted", "tenant_id", "procedure_id", "submitted_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    procedure_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The version answered: its procedure's key (the template's, for an adopted template).
    version_tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version_procedure_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(32), default=SubmissionStatus.RECEIVED.value)
    channel: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # typed; My Number only encrypted
    computed: Mapped[dict[str, Any]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # Who submitted (identity's people.id) and for which organisation they acted, if any.
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    acting_for: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    draft_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the API body
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The resident's signature with the My Number card, when the procedure asks for one: a
    # detached CAdES signature over the RFC 8785 payload of the answers (signatures.detached).
    signature_format: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_serial: Mapped[str | None] = mapped_column(String(40))  # the certificate's, hex
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SubmissionEvent(Base):
    """The audit record of what happened to a submission, by whom, when; never changed."""

    __tablename__ = "submission_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "submission_id"],
            ["submissions.tenant_id", "submissions.id"],
            name="fk_submission_events_submission",
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(254))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Webhook(Base):
    """A URL a tenant wants told of each new submission; the body is signed with its secret."""

    __tablename__ = "webhooks"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    url: Mapped[str] = mapped_column(String(2000))
    secret_sealed: Mapped[str] = mapped_column(Text)  # AES-GCM token of the signing secret
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = _created()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry


class WebhookDelivery(Base):
    """One event for one webhook, written in the submission's transaction, then sent (and
    retried with backoff) after it commits; its attempts are the delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "webhook_id"],
            ["webhooks.tenant_id", "webhooks.id"],
            name="fk_webhook_deliveries_webhook",
            ondelete="CASCADE",
        ),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent, as UTF-8
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = _created()
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
