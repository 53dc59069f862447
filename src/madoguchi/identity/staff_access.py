"""Who may open a staff page or call a staff API: an official of the body in the path, with a
role at least the one the route needs, or a platform administrator.

Every staff route names its body in the path (``/staff/bodies/{code}/…``) and declares the least
role it needs with one of the dependencies below (``StaffViewer``, ``StaffCaseworker``,
``StaffSupervisor``, ``StaffAdministrator``). The answers, chosen so that nothing can be probed:

- nobody signed in: a page redirects to ``/sign-in?next=<the page>`` (303); the API answers
  401 problem+json;
- signed in, but not an official of that body, or with a role below the one needed: 403, decided
  from the body's code alone, before any object is looked up, so the answer is the same whether
  the submission, file or webhook asked for exists or not;
- an official of the body asking for an object of another body (another body's submission id
  under their own body's path): 404, exactly as for an id that does not exist (the services
  scope every lookup to the body).

The check also enters the body's tenant for the rest of the transaction (``core.tenancy``), so
row-level security on PostgreSQL holds the route to that body's rows. Identifiers sent in a form
or body (a tenant, a role, a person) never widen this: the body is the path's, the role is the
signed-in person's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core import tenancy
from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.identity import officials, sessions
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.people import get_person
from madoguchi.tenants import service as tenants

Role = OfficialRole


class SignInFirst(MadoguchiError):
    """A page for officials, asked for by nobody signed in: the browser is sent to sign in."""

    code = "sign-in-required"
    status = 303
    title = N_("Sign in to continue")

    def __init__(self, target: str) -> None:
        super().__init__(N_("These pages are for the officials of public bodies. Sign in first."))
        self.headers = {"Location": "/sign-in?next=" + quote(target, safe="/")}  # type: ignore[misc]


class SignInRequired(MadoguchiError):
    code = "sign-in-required"
    status = 401
    title = N_("Sign in to continue")


class NotPermitted(MadoguchiError):
    code = "not-permitted"
    status = 403
    title = N_("Not open to you")


@dataclass(frozen=True)
class StaffMember:
    """The signed-in official acting for one body, as the route sees them."""

    person_id: uuid.UUID
    name: str
    tenant: tenants.Tenant
    role: OfficialRole | None  # None: a platform administrator who is not an official here
    platform_administrator: bool

    def may(self, minimum: OfficialRole) -> bool:
        return self.platform_administrator or (
            self.role is not None and self.role.at_least(minimum)
        )

    @property
    def name_language(self) -> str | None:
        return officials.name_language(self.name)

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return officials.actor_of(self.person_id)


@dataclass(frozen=True)
class StaffPerson:
    """The signed-in official before a body is chosen: every body they work for."""

    person_id: uuid.UUID
    name: str
    platform_administrator: bool
    bodies: list[tuple[tenants.Tenant, OfficialRole]]

    @property
    def name_language(self) -> str | None:
        return officials.name_language(self.name)


async def require_official(
    request: Request, db: AsyncSession, code: str, minimum: OfficialRole
) -> StaffMember:
    """The signed-in official of the body ``code`` with at least ``minimum``, or the refusal
    the module's docstring describes."""
    person_id = signed_in_person(request)
    tenant = await tenants.get_tenant(db, code)
    await tenancy.enter_tenant(db, tenant.id)
    platform = await officials.is_platform_administrator(db, person_id)
    role = await officials.role_in(db, tenant.id, person_id)
    member = StaffMember(person_id, await _name_of(db, person_id), tenant, role, platform)
    if not member.may(minimum):
        raise _refusal(role is None and not platform, minimum)
    request.state.staff = member
    return member


async def require_staff_person(request: Request, db: AsyncSession) -> StaffPerson:
    """The signed-in person, if they are an official anywhere or a platform administrator."""
    person_id = signed_in_person(request)
    platform = await officials.is_platform_administrator(db, person_id)
    bodies = await officials.tenants_of(db, person_id)
    if not platform and not bodies:
        raise NotPermitted(N_("You are not an official of any public body on madoguchi."))
    person = StaffPerson(person_id, await _name_of(db, person_id), platform, bodies)
    request.state.staff = person
    return person


def signed_in_person(request: Request) -> uuid.UUID:
    person_id = sessions.visitor(request).person_id
    if person_id is not None:
        return person_id
    if request.url.path.startswith("/api/"):
        raise SignInRequired(N_("Sign in as an official of the public body to use this."))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInFirst(target)


def _refusal(outsider: bool, minimum: OfficialRole) -> NotPermitted:
    if outsider:
        return NotPermitted(N_("You are not an official of this public body."))
    return NotPermitted(
        N_("This needs the role {role} or higher in this public body."),
        role=officials.ROLE_NAMES[minimum],
    )


async def _name_of(db: AsyncSession, person_id: uuid.UUID) -> str:
    person = await get_person(db, person_id)
    if person is None:  # the session outlived its person: treat as signed out
        raise SignInRequired(N_("Sign in as an official of the public body to use this."))
    return person.display_name or person.name or person.email or ""


class StaffOf:
    """A route dependency: the signed-in official of the path's body with at least ``minimum``."""

    def __init__(self, minimum: OfficialRole) -> None:
        self.minimum = minimum

    async def __call__(self, request: Request, code: str, session: Session) -> StaffMember:
        return await require_official(request, session, code, self.minimum)


async def _staff_person(request: Request, session: Session) -> StaffPerson:
    return await require_staff_person(request, session)


StaffViewer = Annotated[StaffMember, Depends(StaffOf(OfficialRole.VIEWER))]
StaffCaseworker = Annotated[StaffMember, Depends(StaffOf(OfficialRole.CASEWORKER))]
StaffSupervisor = Annotated[StaffMember, Depends(StaffOf(OfficialRole.SUPERVISOR))]
StaffAdministrator = Annotated[StaffMember, Depends(StaffOf(OfficialRole.ADMINISTRATOR))]
StaffAnywhere = Annotated[StaffPerson, Depends(_staff_person)]
