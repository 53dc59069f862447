"""Tables of the card simulator (development, tests and the demo; see identity/card_simulator).

The simulator plays both the card and the Digital Agency's authentication app: a certificate
authority issues virtual cards, each with a user-authentication and a signature certificate,
whose private keys are kept wrapped under the card's PIN and password (as the chip keeps them:
usable only with the right one). None of these tables is tenant-owned.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class CardAuthority(Base):
    """The key the simulator's ID tokens are signed with, sealed with core.crypto under the
    application secret (card certificates come from the platform PKI since [P4])."""

    __tablename__ = "card_authorities"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed_token_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class VirtualCard(Base):
    """One virtual My Number card of a synthetic resident."""

    __tablename__ = "virtual_cards"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    # Printed on the card and typed by its holder: a reference such as 7KQ2-9XMD-R.
    card_number: Mapped[str] = mapped_column(String(16), unique=True)
    # The holder's OpenID subject: random, never the card number or a My Number.
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    birthdate: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))  # ISO/IEC 5218: 1 male, 2 female, 9 other
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)  # the 5th birthday after issue
    authentication_certificate_pem: Mapped[str] = mapped_column(Text)
    signature_certificate_pem: Mapped[str] = mapped_column(Text)
    authentication_key: Mapped[str] = mapped_column(Text)  # wrapped under the PIN
    signature_key: Mapped[str] = mapped_column(Text)  # wrapped under the password
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    password_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CardAuthorizationCode(Base):
    """A code the simulator handed to a relying party; only its SHA-256 is kept, and it is
    exchanged for tokens once."""

    __tablename__ = "card_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("virtual_cards.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(200))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    # Set when the signature password was given: only then are the attributes released.
    attributes_verified: Mapped[bool] = mapped_column(default=False)
    authenticated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CardSignatureCode(Base):
    """A signature the simulator made for a relying party, kept under a one-time code (only its
    SHA-256), exchanged once, within minutes."""

    __tablename__ = "card_signature_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("virtual_cards.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(200))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of what was signed, hex
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # DER CMS, detached
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CardAttempt(Base):
    """One try at the simulator's forms, by client address: what the rate limit counts."""

    __tablename__ = "card_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    key: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of what is limited
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
