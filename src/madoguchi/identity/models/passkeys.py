"""Passkeys (WebAuthn credentials) of people.

A passkey is national like the person it belongs to, not tenant-owned. ``card_bound`` records
whether the person had been proven by the My Number card when the passkey was added: a sign-in
with such a passkey is of high assurance, any other of low.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class Passkey(Base):
    __tablename__ = "passkeys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    # The authenticator's credential id (at most 1023 bytes, WebAuthn §5.8.3).
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, as registered
    # The authenticator's signature counter: unsigned 32 bits, so wider than INTEGER.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[Any]] = mapped_column(JSON, default=list)
    aaguid: Mapped[str] = mapped_column(String(36))  # the authenticator's model
    name: Mapped[str] = mapped_column(String(100))  # what the person calls it
    card_bound: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
