"""Officials of a tenant and their roles: invite, accept, list, change a role, remove; and the
platform's administrators.

Every change is written to the tenant's audit chain with who made it, and the old and new role.
A change of role or a removal ends every session of the official (``sessions.end_sessions_of``):
what a browser was allowed a moment ago must not outlive the decision. Invitations work like the
sign-in links of ``email_links``: a random token of which only the SHA-256 is kept, spent once by
an atomic ``UPDATE … RETURNING``, before it expires. The token starts with the body's code
(``011002.<random>``): it says which tenant to look in, so that the lookup stays within one
tenant (row-level security) and the code reveals nothing that is not public.

What each role may do is documented in docs/architecture.md ("Officials and roles").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core import tenancy
from madoguchi.core.clock import as_utc
from madoguchi.core.errors import InvalidInput, MadoguchiError, NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity import audit, sessions
from madoguchi.identity.email_links import parse_email
from madoguchi.identity.models import Person
from madoguchi.identity.models.officials import (
    Official,
    OfficialInvitation,
    OfficialRole,
    PlatformAdministrator,
)
from madoguchi.identity.people import person_for_email
from madoguchi.tenants import service as tenants

INVITATION_DAYS = 7
TOKEN_BYTES = 32
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
_TOKEN = re.compile(r"(?P<code>[a-z0-9-]{1,40})\.(?P<secret>[A-Za-z0-9_-]{20,100})")

ROLE_NAMES = {
    OfficialRole.VIEWER: N_("Viewer"),
    OfficialRole.CASEWORKER: N_("Caseworker"),
    OfficialRole.SUPERVISOR: N_("Supervisor"),
    OfficialRole.ADMINISTRATOR: N_("Administrator"),
}


class InvitationUnusable(InvalidInput):
    code = "invitation-unusable"


class AlreadyAnOfficial(MadoguchiError):
    code = "already-an-official"
    status = 409
    title = N_("Already an official")


class LastAdministrator(MadoguchiError):
    code = "last-administrator"
    status = 409
    title = N_("A body needs an administrator")


@dataclass(frozen=True)
class OfficialRow:
    """An official as their administrators see them."""

    person_id: uuid.UUID
    name: str
    email: str | None
    role: OfficialRole
    since: dt.datetime

    @property
    def name_language(self) -> str | None:
        return name_language(self.name)


def name_language(name: str) -> str | None:
    """ "ja" for a name written in Japanese, so that a page marks it (WCAG 3.1.2)."""
    return "ja" if _JAPANESE.search(name) else None


def parse_role(raw: object, field: str = "role") -> OfficialRole:
    try:
        return OfficialRole(str(raw))
    except ValueError:
        raise InvalidInput(N_("Choose one of the roles."), field=field) from None


def actor_of(person_id: uuid.UUID | None) -> str:
    """The audit log's name for who did something: a person, or a command on the server."""
    return f"person:{person_id}" if person_id else "command-line"


# --- who is what -----------------------------------------------------------------------------


async def is_platform_administrator(db: AsyncSession, person_id: uuid.UUID) -> bool:
    return await db.get(PlatformAdministrator, person_id) is not None


async def role_in(
    db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID
) -> OfficialRole | None:
    """The person's role in the tenant, if they are an official there now."""
    await tenancy.enter_tenant(db, tenant_id)
    official = await _active(db, tenant_id, person_id)
    return OfficialRole(official.role) if official else None


async def tenants_of(
    db: AsyncSession, person_id: uuid.UUID
) -> list[tuple[tenants.Tenant, OfficialRole]]:
    """Every body the person is an official of, with their role there, in code order."""
    await tenancy.enter_person(db, person_id)
    rows = await db.execute(
        select(tenants.Tenant, Official.role)
        .join(Official, Official.tenant_id == tenants.Tenant.id)
        .where(Official.person_id == person_id, Official.disabled_at.is_(None))
        .order_by(tenants.Tenant.code)
    )
    return [(tenant, OfficialRole(role)) for tenant, role in rows]


async def list_officials(db: AsyncSession, tenant_id: uuid.UUID) -> list[OfficialRow]:
    await tenancy.enter_tenant(db, tenant_id)
    rows = await db.execute(
        select(Official, Person)
        .join(Person, Person.id == Official.person_id)
        .where(Official.tenant_id == tenant_id, Official.disabled_at.is_(None))
        .order_by(Official.created_at, Official.person_id)
    )
    return [
        OfficialRow(
            person.id,
            person.display_name or person.name or person.email or "",
            person.email,
            OfficialRole(official.role),
            official.created_at,
        )
        for official, person in rows
    ]


async def pending_invitations(
    db: AsyncSession, tenant_id: uuid.UUID, now: dt.datetime
) -> list[OfficialInvitation]:
    await tenancy.enter_tenant(db, tenant_id)
    found = await db.scalars(
        select(OfficialInvitation)
        .where(
            OfficialInvitation.tenant_id == tenant_id,
            OfficialInvitation.used_at.is_(None),
            OfficialInvitation.expires_at > now,
        )
        .order_by(OfficialInvitation.created_at)
    )
    return list(found)


# --- invitations -----------------------------------------------------------------------------


def invitation_path(token: str) -> str:
    return f"/staff/invitations/{token}"


def invitation_url(settings: Settings, token: str) -> str:
    return settings.resolved_public_url() + invitation_path(token)


async def do_invite(
    db: AsyncSession,
    tenant: tenants.Tenant,
    email: str,
    role: OfficialRole,
    invited_by: uuid.UUID | None,
    now: dt.datetime,
) -> tuple[str, str]:
    """A new invitation for ``email`` (as typed) to be ``role`` of ``tenant``: its token, and the
    address as it was understood (the one to send it to)."""
    address = parse_email(email, "email")
    await tenancy.enter_tenant(db, tenant.id)
    if await _official_with_email(db, tenant.id, address) is not None:
        raise AlreadyAnOfficial(
            N_("This address already belongs to an official of this body: change their role."),
            field="email",
        )
    token = f"{tenant.code}.{secrets.token_urlsafe(TOKEN_BYTES)}"
    db.add(
        OfficialInvitation(
            tenant_id=tenant.id,
            token_hash=_hash(token),
            email=address,
            role=role.value,
            invited_by=invited_by,
            created_at=now,
            expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
    )
    await db.flush()
    await audit.append(
        db,
        actor=actor_of(invited_by),
        action="official.invited",
        tenant_id=tenant.id,
        purpose="officials",
        details={"email": address, "role": role.value},
    )
    return token, address


async def check_invitation(
    db: AsyncSession, token: str, now: dt.datetime
) -> tuple[OfficialInvitation, tenants.Tenant]:
    """The invitation and its body, if it would still work; not used up (a mail scanner may
    open it)."""
    tenant = await _tenant_of_token(db, token)
    invitation = await _find(db, tenant, token) if tenant else None
    if tenant is None or invitation is None:
        raise _not_whole()
    if problem := _problem(invitation, now):
        raise problem
    return invitation, tenant


async def do_accept(
    db: AsyncSession, token: str, now: dt.datetime
) -> tuple[OfficialInvitation, Person]:
    """Spend the invitation: the person who proved its address becomes an official with its
    role (an official removed earlier comes back with it)."""
    invitation = await _spend(db, token, now)
    person = await person_for_email(db, invitation.email)
    invitation.used_by = person.id
    official = await db.get(Official, (invitation.tenant_id, person.id))
    old_role = official.role if official and official.disabled_at is None else None
    if official is None:
        official = Official(tenant_id=invitation.tenant_id, person_id=person.id)
        db.add(official)
    official.role, official.invited_by = invitation.role, invitation.invited_by
    official.disabled_at, official.updated_at = None, now
    await db.flush()
    await audit.append(
        db,
        actor=actor_of(person.id),
        action="official.joined",
        tenant_id=invitation.tenant_id,
        purpose="officials",
        subject=f"person:{person.id}",
        details={"old_role": old_role, "new_role": invitation.role},
    )
    return invitation, person


async def _spend(db: AsyncSession, token: str, now: dt.datetime) -> OfficialInvitation:
    tenant = await _tenant_of_token(db, token)
    if tenant is None:
        raise _not_whole()
    spent = await db.scalar(
        update(OfficialInvitation)
        .where(
            OfficialInvitation.tenant_id == tenant.id,
            OfficialInvitation.token_hash == _hash(token),
            OfficialInvitation.used_at.is_(None),
            OfficialInvitation.expires_at > now,
        )
        .values(used_at=now)
        .returning(OfficialInvitation)
        .execution_options(synchronize_session="fetch", populate_existing=True)
    )
    if spent is not None:
        return spent
    invitation = await _find(db, tenant, token)
    if invitation is None:
        raise _not_whole()
    raise _problem(invitation, now) or _used()  # spent by another request in between


async def _tenant_of_token(db: AsyncSession, token: str) -> tenants.Tenant | None:
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    try:
        tenant = await tenants.get_tenant(db, match["code"])
    except (NotFound, InvalidInput):
        return None
    await tenancy.enter_tenant(db, tenant.id)
    return tenant


async def _find(db: AsyncSession, tenant: tenants.Tenant, token: str) -> OfficialInvitation | None:
    return await db.scalar(
        select(OfficialInvitation)
        .where(
            OfficialInvitation.tenant_id == tenant.id,
            OfficialInvitation.token_hash == _hash(token),
        )
        .execution_options(populate_existing=True)
    )


def _problem(invitation: OfficialInvitation, now: dt.datetime) -> InvitationUnusable | None:
    if invitation.used_at is not None:
        return _used()
    if as_utc(invitation.expires_at) <= now:
        return InvitationUnusable(
            N_("This invitation has expired. Ask the administrator of the body for a new one."),
            field="token",
        )
    return None


def _not_whole() -> InvitationUnusable:
    return InvitationUnusable(
        N_(
            "This invitation link does not work: it may not have been copied whole. "
            "Ask the administrator of the body for a new one."
        ),
        field="token",
    )


def _used() -> InvitationUnusable:
    return InvitationUnusable(
        N_("This invitation has already been used. Sign in to continue."), field="token"
    )


# --- changing and removing -------------------------------------------------------------------


async def do_change_role(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    person_id: uuid.UUID,
    role: OfficialRole,
    changed_by: uuid.UUID | None,
) -> None:
    """Give an official another role; their sessions end, so the new role applies at once."""
    official = await _official(db, tenant_id, person_id)
    old = OfficialRole(official.role)
    if old is OfficialRole.ADMINISTRATOR and role is not OfficialRole.ADMINISTRATOR:
        await _check_another_administrator(db, tenant_id, person_id)
    official.role, official.updated_at = role.value, _now()
    await _record_and_sign_out(db, official, changed_by, "official.role_changed", old, role)


async def do_remove(
    db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID, removed_by: uuid.UUID | None
) -> None:
    """An official no longer works for the body: disabled, and signed out everywhere."""
    official = await _official(db, tenant_id, person_id)
    old = OfficialRole(official.role)
    if old is OfficialRole.ADMINISTRATOR:
        await _check_another_administrator(db, tenant_id, person_id)
    official.disabled_at = official.updated_at = _now()
    await _record_and_sign_out(db, official, removed_by, "official.removed", old, None)


async def _record_and_sign_out(
    db: AsyncSession,
    official: Official,
    actor: uuid.UUID | None,
    action: str,
    old: OfficialRole,
    new: OfficialRole | None,
) -> None:
    await db.flush()
    ended = await sessions.end_sessions_of(db, official.person_id)
    await audit.append(
        db,
        actor=actor_of(actor),
        action=action,
        tenant_id=official.tenant_id,
        purpose="officials",
        subject=f"person:{official.person_id}",
        details={
            "old_role": old.value,
            "new_role": new.value if new else None,
            "sessions_ended": ended,
        },
    )


async def _official(db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID) -> Official:
    await tenancy.enter_tenant(db, tenant_id)
    official = await _active(db, tenant_id, person_id)
    if official is None:
        raise NotFound(N_("There is no such official in this body."), field="person")
    return official


async def _active(db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID) -> Official | None:
    return await db.scalar(
        select(Official).where(
            Official.tenant_id == tenant_id,
            Official.person_id == person_id,
            Official.disabled_at.is_(None),
        )
    )


async def _check_another_administrator(
    db: AsyncSession, tenant_id: uuid.UUID, person_id: uuid.UUID
) -> None:
    others = await db.scalar(
        select(func.count())
        .select_from(Official)
        .where(
            Official.tenant_id == tenant_id,
            Official.person_id != person_id,
            Official.role == OfficialRole.ADMINISTRATOR.value,
            Official.disabled_at.is_(None),
        )
    )
    if not others:
        raise LastAdministrator(
            N_(
                "This is the body's only administrator. Invite or appoint another "
                "administrator first."
            ),
            field="person",
        )


async def _official_with_email(
    db: AsyncSession, tenant_id: uuid.UUID, email: str
) -> Official | None:
    return await db.scalar(
        select(Official)
        .join(Person, Person.id == Official.person_id)
        .where(
            Official.tenant_id == tenant_id,
            Person.email == email,
            Official.disabled_at.is_(None),
        )
    )


# --- platform administrators -----------------------------------------------------------------


async def do_add_platform_administrator(
    db: AsyncSession, email: str, added_by: uuid.UUID | None
) -> Person:
    """Make the person with this email address (made if new) a platform administrator."""
    person = await person_for_email(db, parse_email(email, "email"))
    if await db.get(PlatformAdministrator, person.id) is None:
        db.add(PlatformAdministrator(person_id=person.id, added_by=added_by))
        await db.flush()
        await audit.append(
            db,
            actor=actor_of(added_by),
            action="platform_administrator.added",
            purpose="officials",
            subject=f"person:{person.id}",
        )
    return person


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
