"""Tables of the procedures domain: a procedure per owner and slug, and its versions.

Both are tenant-owned: ``tenant_id`` (the owning public body) leads every key, so that on Citus a
procedure and its versions live on one shard. A municipality that adopts a national template
refers to it by ids, not by a foreign key, because the template lives in another tenant.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    slug: Mapped[str] = mapped_column(String(64))
    # The version applicants get now: None until one is published.
    current_version: Mapped[int | None] = mapped_column(Integer)
    # For an adopted national template: the template's tenant and procedure.
    template_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    template_procedure_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What an adopting municipality adds without forking the questions (contact, guidance).
    localisation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ProcedureVersion(Base):
    """One version of a definition. A published version never changes again."""

    __tablename__ = "procedure_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "procedure_id"],
            ["procedures.tenant_id", "procedures.id"],
            name="fk_procedure_versions_procedure",
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    procedure_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)  # the YAML as its owner wrote it
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # as validated, for the engine
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The Excel workbook this version was drafted from (its SHA-256 in the file store), so that
    # responses can be exported back into the owner's own layout.
    workbook_sha256: Mapped[str | None] = mapped_column(String(64))
