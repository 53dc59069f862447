"""Organisations people act for: businesses (by corporate number), medical institutions (by their
医療機関コード) and others (by name), their members, and the capacity a session acts in.

Registering is a claim: madoguchi records that a card-proven person (a HIGH session) says they
represent the organisation, and writes it to the audit log. It does not verify the claim as
gBizID does with the registry of commerce; a corporate number can be registered once, and a
second claim is told to ask the representative already recorded.

The organisation a session acts for is kept on the server-side session
(``identity.sessions.act_for``). Membership can end while a session acts for it (removed by the
representative, or left in another tab), so whoever reads the acting capacity reads it through
``current_acting_for``, which checks the membership again and forgets it when it is gone.
Membership changes (invitations, removal, hand-over) are in ``organisation_members``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from madoguchi.core.errors import InvalidInput, MadoguchiError, NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.ids import uuid7
from madoguchi.identity import audit, sessions
from madoguchi.identity.models import (
    Assurance,
    Membership,
    MembershipRole,
    Organisation,
    Person,
    WebSession,
)
from madoguchi.identity.organisation_numbers import Registration

ACTING_KEY = "acting_for"  # session data: {"id", "name", "lang"} of the organisation acted for
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


class CardSignInNeeded(MadoguchiError):
    code = "card-sign-in-needed"
    status = 403
    title = N_("Sign in with your My Number card")


class AlreadyRegistered(InvalidInput):
    code = "organisation-already-registered"
    status = 409
    title = N_("This organisation is already registered")


@dataclass(frozen=True)
class MembershipOf:
    """An organisation as one of its members sees it in a list."""

    organisation: Organisation
    role: str

    @property
    def is_representative(self) -> bool:
        return self.role == MembershipRole.REPRESENTATIVE.value


# --- Registering --------------------------------------------------------------------------------


def check_card_proven(assurance: Assurance) -> None:
    if assurance < Assurance.HIGH:
        raise CardSignInNeeded(
            N_(
                "To register an organisation, sign in with your My Number card: the "
                "registration is recorded with the person the card proves."
            )
        )


async def do_register(
    db: AsyncSession, person_id: uuid.UUID, assurance: Assurance, registration: Registration
) -> Organisation:
    """Record the organisation with ``person_id`` as its representative (a claim, audited)."""
    check_card_proven(assurance)
    return await do_register_for(db, person_id, registration, actor=f"person:{person_id}")


async def do_register_for(
    db: AsyncSession, person_id: uuid.UUID, registration: Registration, actor: str
) -> Organisation:
    """Register with ``person_id`` as representative, by ``actor`` (the person, or an operator
    on the command line)."""
    await _check_not_registered(db, registration)
    organisation = Organisation(
        id=uuid7(),
        kind=registration.kind.value,
        name=registration.name,
        corporate_number=registration.corporate_number,
        medical_institution_code=registration.medical_institution_code,
    )
    try:
        async with db.begin_nested():  # two registrations at once: the second fails here
            db.add(organisation)
            await db.flush()
    except IntegrityError:
        await _check_not_registered(db, registration)
        raise
    await _add_representative(db, organisation, person_id, actor)
    return organisation


async def _add_representative(
    db: AsyncSession, organisation: Organisation, person_id: uuid.UUID, actor: str
) -> None:
    db.add(
        Membership(
            organisation_id=organisation.id,
            person_id=person_id,
            role=MembershipRole.REPRESENTATIVE.value,
        )
    )
    await db.flush()
    await audit.append(
        db,
        actor=actor,
        action="organisation.registered",
        subject=f"organisation:{organisation.id}",
        details={
            "organisation": str(organisation.id),
            "kind": organisation.kind,
            "name": organisation.name,
            "corporate_number": organisation.corporate_number,
            "medical_institution_code": organisation.medical_institution_code,
            "member": str(person_id),
            "old_role": None,
            "new_role": MembershipRole.REPRESENTATIVE.value,
            # What was verified: the person (by the card), not their right to represent.
            "verified": "claim recorded with a card-proven person; not checked with gBizID",
        },
    )


async def _check_not_registered(db: AsyncSession, registration: Registration) -> None:
    taken = [
        (column, value, field)
        for column, value, field in (
            (Organisation.corporate_number, registration.corporate_number, "corporate_number"),
            (
                Organisation.medical_institution_code,
                registration.medical_institution_code,
                "medical_institution_code",
            ),
        )
        if value is not None
    ]
    for column, value, field in taken:
        if await db.scalar(select(Organisation.id).where(column == value)) is not None:
            raise AlreadyRegistered(
                N_(
                    "An organisation with this number is already registered. To act for it, "
                    "ask its representative to add you as a member."
                ),
                field=field,
            )


# --- Reading ------------------------------------------------------------------------------------


async def list_memberships_of(db: AsyncSession, person_id: uuid.UUID) -> list[MembershipOf]:
    rows = await db.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.person_id == person_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return [MembershipOf(organisation, role) for organisation, role in rows.all()]


async def check_member(
    db: AsyncSession, person_id: uuid.UUID | None, organisation_id: uuid.UUID
) -> Membership:
    """The person's membership of the organisation; 404 when there is none (whether the
    organisation exists is not told to someone outside it)."""
    membership = (
        await db.get(Membership, (organisation_id, person_id)) if person_id is not None else None
    )
    if membership is None:
        raise NotFound(N_("There is no such organisation among yours."), field="organisation")
    return membership


async def access_organisation_by_id(
    db: AsyncSession, person_id: uuid.UUID | None, organisation_id: uuid.UUID
) -> MembershipOf:
    membership = await check_member(db, person_id, organisation_id)
    organisation = await db.get_one(Organisation, organisation_id)
    return MembershipOf(organisation, membership.role)


async def organisation_name(db: AsyncSession, organisation_id: uuid.UUID) -> str | None:
    return await db.scalar(select(Organisation.name).where(Organisation.id == organisation_id))


async def list_organisations(db: AsyncSession) -> list[tuple[Organisation, Person | None]]:
    """Every organisation with a representative (for operators)."""
    rows = await db.execute(
        select(Organisation, Person)
        .outerjoin(
            Membership,
            (Membership.organisation_id == Organisation.id)
            & (Membership.role == MembershipRole.REPRESENTATIVE.value),
        )
        .outerjoin(Person, Person.id == Membership.person_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return [(organisation, person) for organisation, person in rows.all()]


def text_language(text: str) -> str | None:
    """The language a name is written in, for marking it on a page of the other language:
    Japanese if any of it is, English if it has letters, none for an email address."""
    if _JAPANESE.search(text):
        return "ja"
    if "@" in text or not any(ch.isalpha() for ch in text):
        return None
    return "en"


# --- The capacity a session acts in -------------------------------------------------------------


async def do_act_for(
    request: HTTPConnection, db: AsyncSession, organisation_id: uuid.UUID | None
) -> None:
    """Act for ``organisation_id`` (None: for oneself) after checking membership; the session id
    and form token change, and the switch is audited."""
    person_id = sessions.visitor(request).person_id
    name = None
    if organisation_id is not None:
        await check_member(db, person_id, organisation_id)
        name = await organisation_name(db, organisation_id)
    sessions.act_for(request, organisation_id)
    if organisation_id is None or name is None:
        request.session.pop(ACTING_KEY, None)
    else:
        request.session[ACTING_KEY] = {
            "id": str(organisation_id),
            "name": name,
            "lang": text_language(name),
        }
    await audit.append(
        db,
        actor=f"person:{person_id}",
        action="organisation.act_for",
        subject=f"organisation:{organisation_id}" if organisation_id else None,
        details={"organisation": str(organisation_id) if organisation_id else None},
    )


async def current_acting_for(request: HTTPConnection, db: AsyncSession) -> uuid.UUID | None:
    """The organisation this session acts for, if the person is still its member; otherwise the
    session stops acting for it (and None)."""
    visitor = sessions.visitor(request)
    if visitor.acting_for is None:
        return None
    try:
        await check_member(db, visitor.person_id, visitor.acting_for)
    except NotFound:
        sessions.act_for(request, None)
        request.session.pop(ACTING_KEY, None)
        return None
    return visitor.acting_for


async def stop_sessions_acting_for(
    db: AsyncSession, person_id: uuid.UUID, organisation_id: uuid.UUID
) -> None:
    """After a membership ends: the person's sessions stop acting for the organisation, so their
    next request (in any browser) shows and acts in their own name."""
    rows = await db.scalars(
        select(WebSession).where(
            WebSession.person_id == person_id, WebSession.acting_for == organisation_id
        )
    )
    for row in rows:
        row.acting_for = None
        row.data = {key: value for key, value in (row.data or {}).items() if key != ACTING_KEY}
