"""Server-side sessions. The browser holds only a random token; the row is keyed by its SHA-256,
so a copy of the database cannot be replayed as a cookie. Ending a session deletes its row, which
is what signs a browser out on the server (sign-out, account disabled, idle or absolute timeout).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base


class Assurance(enum.IntEnum):
    """How strongly the person in a session was proven. Ordered: a procedure demanding LOW is
    open to HIGH too."""

    NONE = 0  # nobody signed in
    LOW = 1  # an email address proven by a one-time link
    HIGH = 2  # the My Number card, or a passkey bound to a card-proven account


class SignInMethod(enum.StrEnum):
    EMAIL = "email"
    CARD = "card"
    PASSKEY = "passkey"


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    method: Mapped[str | None] = mapped_column(String(16))
    assurance: Mapped[int] = mapped_column(default=0)
    # The organisation the person acts for in this session (a clinic, a company), if any.
    acting_for: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What pages keep between requests: the form token, drafts made in this browser…
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A help-desk terminal: the session ends after every completed procedure.
    shared_terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # the absolute limit
    signed_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The last fresh card sign-in, for step-up before sensitive changes.
    card_proven_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
