"""Accounts: people (national, not tenant-owned), the organisations they act for, and how a
person is known to an identity provider.

A person is one row however they sign in: the card's subject, a passkey and a proven email
address all lead to the same ``people.id``. Attributes read from the card's signature certificate
(name, address, date of birth, sex) are stored with the moment they were verified; a person who
has only proven an email address has none of them.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class OrganisationKind(enum.StrEnum):
    BUSINESS = "business"  # a company or other corporation, identified by its corporate number
    MEDICAL_INSTITUTION = "medical-institution"  # a hospital or clinic; doctors act for it
    OTHER = "other"  # an association, a school…


class MembershipRole(enum.StrEnum):
    REPRESENTATIVE = "representative"  # may add and remove members
    MEMBER = "member"


class Person(Base):
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # The four basic attributes, as the card's signature certificate states them.
    name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    birthdate: Mapped[dt.date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    attributes_verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Proven by a one-time link; unique so that an email sign-in finds one person.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # Set when a card sign-in first proved this person: passkeys added after it are "high".
    card_proven_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CardIdentity(Base):
    """The subject an OpenID provider (the authentication app, or the card simulator) gives a
    card holder. Keyed by issuer and subject: the same subject from two issuers is two people."""

    __tablename__ = "card_identities"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    # 法人番号, 13 digits with the check digit first; required for a business.
    corporate_number: Mapped[str | None] = mapped_column(String(13), unique=True)
    # 医療機関コード (10 digits) of a medical institution, when known.
    medical_institution_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Membership(Base):
    """A person may act for an organisation (a doctor for a clinic, an employee for a company)."""

    __tablename__ = "memberships"
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(32), default=MembershipRole.MEMBER.value)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
