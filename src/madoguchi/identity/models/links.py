"""One-time sign-in links that prove an email address ([P2])."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base


class SignInLink(Base):
    """A link sent by email. Only the SHA-256 of its token is kept, so a copy of the database
    opens nothing; it works once, before it expires."""

    __tablename__ = "sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    # Where the link leads after signing in (a draft to resume), a path on this site.
    next_path: Mapped[str] = mapped_column(String(500))
    draft_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    draft_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
