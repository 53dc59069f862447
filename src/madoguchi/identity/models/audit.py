"""The tamper-evident audit log: hash chains per tenant with signed checkpoints (see
identity/audit.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base


class AuditChain(Base):
    """The head of one hash chain: one per tenant, plus "platform" for platform-wide events.

    Appending locks only this row, so entries of different tenants never wait for each other.
    """

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One audited event. ``hash`` is SHA-256 over every other field and ``prev_hash``, the hash
    of the entry before it in the same chain; editing, deleting or moving an entry breaks it."""

    __tablename__ = "audit_entries"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(254))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """Every chain's head at one moment, signed with HMAC-SHA256 under a key derived from the
    application secret: a chain cut short or rewritten whole no longer matches it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    heads: Mapped[dict[str, Any]] = mapped_column(JSON)  # chain -> [seq, hash]
    signature: Mapped[str] = mapped_column(Text)
