"""Finding or making the one person behind a proof: a card's subject or an email address.

A card sign-in brings the four attributes the card's signature certificate states; they are
stored as verified at that moment, and replace what was there (a move changes the address, and
the card's certificate is reissued with it). An email sign-in brings only the address.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.ids import uuid7
from madoguchi.identity.models import CardIdentity, Person


@dataclass(frozen=True)
class CardAttributes:
    """What the card's signature certificate says of its holder (all optional: the
    authentication certificate alone carries none)."""

    name: str | None = None
    address: str | None = None
    birthdate: dt.date | None = None
    gender: str | None = None


async def person_for_email(db: AsyncSession, email: str) -> Person:
    person = await db.scalar(select(Person).where(Person.email == email))
    if person is None:
        person = Person(id=uuid7(), email=email, display_name=email)
        db.add(person)
        await db.flush()
    return person


async def person_for_card(
    db: AsyncSession, issuer: str, subject: str, attributes: CardAttributes
) -> Person:
    """The person this card subject belongs to (made on first sign-in), with the card's
    attributes recorded as verified now."""
    now = dt.datetime.now(dt.UTC)
    identity = await db.get(CardIdentity, (issuer, subject))
    if identity is None:
        person = Person(id=uuid7(), card_proven_at=now)
        db.add(person)
        await db.flush()
        db.add(CardIdentity(issuer=issuer, subject=subject, person_id=person.id))
    else:
        identity.last_seen_at = now
        person = await db.get_one(Person, identity.person_id)
        person.card_proven_at = person.card_proven_at or now
    _record_attributes(person, attributes, now)
    await db.flush()
    return person


async def get_person(db: AsyncSession, person_id: uuid.UUID) -> Person | None:
    return await db.get(Person, person_id)


def _record_attributes(person: Person, attributes: CardAttributes, now: dt.datetime) -> None:
    if attributes == CardAttributes():
        return
    person.name = attributes.name
    person.address = attributes.address
    person.birthdate = attributes.birthdate
    person.gender = attributes.gender
    person.display_name = attributes.name or person.display_name
    person.attributes_verified_at = now
