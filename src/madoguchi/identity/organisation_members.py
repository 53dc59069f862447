"""Who may act for an organisation: invitations, removal, leaving, handing over representation.

A representative invites a member by email address. The invitation is a one-time link made by
``email_links.create_link`` (only its hash stored, spent once by ``use_link``, expiring after
``MADOGUCHI_SIGN_IN_LINK_MINUTES``, at most five an hour per address). What it invites to is
sealed (AES-GCM, purpose ``organisation_invitation``) into the link's ``next_path``, so a sign-in
link someone asked for themselves can never be passed off as an invitation.

The same invitation serves a person who already has an account and one who has none: whoever
opens the link and accepts joins — the person signed in in that browser (a doctor signed in with
their card), or, if nobody is, the person of that email address, signed in by it as an email
link would. A representative therefore never learns whether an address already has an account.

Every change is written to the audit log with the actor, the organisation, the member and the
old and new roles. A membership that ends stops every session of that person acting for it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import DecryptionError, decrypt_text, encrypt_text
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.identity.email_links import LinkUnusable, check_link, create_link, use_link
from madoguchi.identity.models import Membership, MembershipRole, Organisation, Person
from madoguchi.identity.organisations import check_member, stop_sessions_acting_for
from madoguchi.identity.people import get_person, person_for_email

INVITATION_PURPOSE = "organisation_invitation"
INVITATION_PATH = "/account/invitations/{token}"


class NotRepresentative(MadoguchiError):
    code = "not-representative"
    status = 403
    title = N_("Only the representative can do this")


class InvitationUnusable(InvalidInput):
    code = "invitation-unusable"
    title = N_("This invitation cannot be used")


@dataclass(frozen=True)
class Invitation:
    organisation: Organisation
    invited_by: uuid.UUID
    email: str


@dataclass(frozen=True)
class Member:
    person_id: uuid.UUID
    name: str
    role: str

    @property
    def is_representative(self) -> bool:
        return self.role == MembershipRole.REPRESENTATIVE.value


# --- Reading ------------------------------------------------------------------------------------


async def list_members(db: AsyncSession, organisation_id: uuid.UUID) -> list[Member]:
    rows = await db.execute(
        select(Person, Membership.role)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(Membership.role.desc(), Membership.created_at, Person.id)
    )
    return [
        Member(person.id, person.display_name or person.name or person.email or "", role)
        for person, role in rows.all()
    ]


async def check_representative(
    db: AsyncSession, person_id: uuid.UUID | None, organisation_id: uuid.UUID
) -> Membership:
    membership = await check_member(db, person_id, organisation_id)
    if membership.role != MembershipRole.REPRESENTATIVE.value:
        raise NotRepresentative(
            N_("Only the organisation's representative can add or remove members.")
        )
    return membership


# --- Invitations --------------------------------------------------------------------------------


async def do_invite(
    db: AsyncSession,
    settings: Settings,
    inviter_id: uuid.UUID,
    organisation_id: uuid.UUID,
    email: str,
    now: dt.datetime,
) -> str:
    """A one-time invitation link's token for ``email`` (already parsed); audited."""
    await check_representative(db, inviter_id, organisation_id)
    sealed = encrypt_text(
        json.dumps({"organisation": str(organisation_id), "by": str(inviter_id), "email": email}),
        INVITATION_PURPOSE,
        settings.resolved_secret_key(),
    )
    next_path = f"/account/organisations/{organisation_id}?invitation={sealed}"
    token = await create_link(db, email, next_path, now, settings)
    await _audit(db, inviter_id, "organisation.member_invited", organisation_id, None, None, email)
    return token


def invitation_path(token: str) -> str:
    return INVITATION_PATH.format(token=token)


async def read_invitation(
    db: AsyncSession, settings: Settings, token: str, now: dt.datetime
) -> Invitation:
    """What the link invites to, without spending it (a mail scanner may open it)."""
    try:
        link = await check_link(db, token, now)
    except LinkUnusable:
        raise _unusable() from None
    return await _invitation_in(db, settings, link.next_path, link.email)


async def do_accept(
    db: AsyncSession,
    settings: Settings,
    token: str,
    now: dt.datetime,
    signed_in: uuid.UUID | None,
) -> tuple[Invitation, Person]:
    """Spend the link and make the person a member: ``signed_in`` if someone is, otherwise the
    person of the email address (whom the caller then signs in)."""
    try:
        link = await use_link(db, token, now)
    except LinkUnusable:
        raise _unusable() from None
    invitation = await _invitation_in(db, settings, link.next_path, link.email)
    organisation_id = invitation.organisation.id
    try:
        await check_representative(db, invitation.invited_by, organisation_id)
    except MadoguchiError:  # the inviter is no longer its representative: the invitation lapsed
        raise _unusable() from None
    person = await get_person(db, signed_in) if signed_in else None
    person = person or await person_for_email(db, link.email)
    if await db.get(Membership, (organisation_id, person.id)) is None:
        db.add(Membership(organisation_id=organisation_id, person_id=person.id))
        await db.flush()
        await _audit(
            db,
            person.id,
            "organisation.member_added",
            organisation_id,
            person.id,
            (None, MembershipRole.MEMBER.value),
            link.email,
        )
    return invitation, person


async def _invitation_in(
    db: AsyncSession, settings: Settings, next_path: str, email: str
) -> Invitation:
    """The sealed invitation in a link's path; a link that holds none is not an invitation."""
    sealed = parse_qs(urlsplit(next_path).query).get("invitation", [""])[0]
    try:
        fields = json.loads(
            decrypt_text(sealed, INVITATION_PURPOSE, settings.resolved_secret_key())
        )
    except (DecryptionError, ValueError):
        raise _unusable() from None
    organisation = await db.get(Organisation, uuid.UUID(fields["organisation"]))
    if organisation is None or fields["email"] != email:
        raise _unusable()
    return Invitation(organisation, uuid.UUID(fields["by"]), email)


def _unusable() -> InvitationUnusable:
    return InvitationUnusable(
        N_(
            "This invitation link does not work: it may have expired, been used already, or "
            "not been copied whole. Ask the organisation's representative to invite you again."
        ),
        field="token",
    )


# --- Removing, leaving, handing over ------------------------------------------------------------


async def do_remove_member(
    db: AsyncSession, actor_id: uuid.UUID, organisation_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    await check_representative(db, actor_id, organisation_id)
    membership = await check_member(db, member_id, organisation_id)
    if member_id == actor_id:
        raise InvalidInput(
            "You cannot remove yourself: hand over representation to another member, then "
            "leave the organisation.",
            field="person",
        )
    await _end(db, membership)
    await _audit(
        db,
        actor_id,
        "organisation.member_removed",
        organisation_id,
        member_id,
        (membership.role, None),
    )


async def do_leave(db: AsyncSession, person_id: uuid.UUID, organisation_id: uuid.UUID) -> None:
    membership = await check_member(db, person_id, organisation_id)
    if membership.role == MembershipRole.REPRESENTATIVE.value and not await _other_representative(
        db, organisation_id, person_id
    ):
        raise InvalidInput(
            "You are the representative: hand over representation to another member before "
            "you leave.",
            field="leave",
        )
    await _end(db, membership)
    await _audit(
        db,
        person_id,
        "organisation.member_left",
        organisation_id,
        person_id,
        (membership.role, None),
    )


async def do_hand_over(
    db: AsyncSession, actor_id: uuid.UUID, organisation_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """``member_id`` becomes the representative; the actor stays, as a member."""
    mine = await check_representative(db, actor_id, organisation_id)
    theirs = await check_member(db, member_id, organisation_id)
    if theirs.role == MembershipRole.REPRESENTATIVE.value:
        raise InvalidInput("This member is already a representative.", field="person")
    theirs.role = MembershipRole.REPRESENTATIVE.value
    mine.role = MembershipRole.MEMBER.value
    await db.flush()
    for member, old, new in (
        (member_id, MembershipRole.MEMBER, MembershipRole.REPRESENTATIVE),
        (actor_id, MembershipRole.REPRESENTATIVE, MembershipRole.MEMBER),
    ):
        await _audit(
            db,
            actor_id,
            "organisation.role_changed",
            organisation_id,
            member,
            (old.value, new.value),
        )


async def _end(db: AsyncSession, membership: Membership) -> None:
    await db.delete(membership)
    await db.flush()
    await stop_sessions_acting_for(db, membership.person_id, membership.organisation_id)


async def _other_representative(
    db: AsyncSession, organisation_id: uuid.UUID, person_id: uuid.UUID
) -> bool:
    others = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.person_id != person_id,
            Membership.role == MembershipRole.REPRESENTATIVE.value,
        )
    )
    return bool(others)


async def _audit(
    db: AsyncSession,
    actor_id: uuid.UUID,
    action: str,
    organisation_id: uuid.UUID,
    member_id: uuid.UUID | None,
    roles: tuple[str | None, str | None] | None,
    email: str | None = None,
) -> None:
    old_role, new_role = roles if roles else (None, MembershipRole.MEMBER.value)
    details: dict[str, str | None] = {
        "organisation": str(organisation_id),
        "member": str(member_id) if member_id else None,
        "old_role": old_role,
        "new_role": new_role,
    }
    if email is not None:
        details["email"] = email
    await audit.append(
        db,
        actor=f"person:{actor_id}",
        action=action,
        subject=f"organisation:{organisation_id}",
        details=details,
    )
