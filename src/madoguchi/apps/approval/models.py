"""Tables of internal e-approval (電子決裁), both tenant-owned.

- ``approval_documents``: one document and where it stands: its status, the round of review
  (a returned document sent again starts a new round), the step waiting, the unsigned draft the
  round started from and the current PDF (both by SHA-256 in the file store), and the sealed
  document's public reference once approved.
- ``approval_steps``: the route of each round, one row per approver in order, with the least
  role it needs and, once decided, who approved or returned it, when, their comment and the
  name of the signature field their approval added. Rows of earlier rounds are kept: with the
  document they are its whole history.

Names of the drafter and deciders are kept as they were then, as a signature keeps them.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class Status(enum.StrEnum):
    IN_REVIEW = "in_review"  # waiting for the approver of ``current_step``
    RETURNED = "returned"  # rejected with a comment: back with the drafter
    APPROVED = "approved"  # every step approved, and sealed by the body


class Decision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class ApprovalDocument(Base):
    __tablename__ = "approval_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    drafted_by: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # a person's id
    drafter_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    current_step: Mapped[int] = mapped_column(Integer)  # the position waiting, from 0
    source_sha256: Mapped[str] = mapped_column(String(64))  # the round's unsigned draft
    file_sha256: Mapped[str] = mapped_column(String(64))  # with every signature so far
    file_name: Mapped[str] = mapped_column(String(200))
    sealed_reference: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApprovalStep(Base):
    __tablename__ = "approval_steps"
    __table_args__ = (UniqueConstraint("document_id", "round", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_documents.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    required_role: Mapped[str] = mapped_column(String(32))  # an OfficialRole
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decider_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    field_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
