"""Officials: people who work for a tenant, each with one role there; their invitations; and the
platform's own administrators ([P3] item 5).

``officials`` and ``official_invitations`` are tenant-owned (``tenant_id`` leads their keys, and
row-level security applies to them on PostgreSQL). A person may be an official of several
tenants, with a role in each. Removing an official sets ``disabled_at`` rather than deleting the
row, so the record of who was an official when stays with the audit log.

``platform_administrators`` is not tenant-owned: a platform administrator may act for every
tenant (to appoint a body's first administrator, or help one).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import DateTime, ForeignKey, Index, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base


class OfficialRole(enum.StrEnum):
    """A role within one tenant. Ordered: each may do what the roles below it may."""

    VIEWER = "viewer"
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"

    @property
    def rank(self) -> int:
        return list(OfficialRole).index(self)

    def at_least(self, minimum: OfficialRole) -> bool:
        return self.rank >= minimum.rank


class Official(Base):
    __tablename__ = "officials"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    # Who invited them (a person; None when a command on the server did).
    invited_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OfficialInvitation(Base):
    """An invitation emailed to an address. Only the SHA-256 of its token is kept; it works once,
    before it expires, and makes whoever proves the address an official with this role."""

    __tablename__ = "official_invitations"
    __table_args__ = (Index("ix_official_invitations_email", "tenant_id", "email"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    invited_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class PlatformAdministrator(Base):
    __tablename__ = "platform_administrators"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    added_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
