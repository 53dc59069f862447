"""The officials of a body, as its administrators manage them, and accepting an invitation.

``/staff/bodies/{code}/officials`` lists the body's officials and open invitations, invites by
email and role, changes a role and removes an official; administrators only. The body is the
path's and the person the path's (404 unless an official of that body): a ``tenant_id``, a
``person_id`` or any other field added to a form is never read.

``/staff/invitations/{token}`` is the emailed link. As with sign-in links, opening it shows a
button and only pressing it spends the invitation (mail scanners open every link). Pressing it
proves the address: the person (made if new) becomes an official, is signed in by email
(assurance: low) and is sent to add a passkey, the main factor of officials.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, MadoguchiError, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity import officials, passkeys, sessions
from madoguchi.identity.models import Assurance, SignInMethod
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.pages import NOT_STORED, email_sender, settings_of
from madoguchi.identity.staff_access import StaffAdministrator, StaffMember

router = APIRouter(include_in_schema=False)

BASE = "/staff/bodies/{code}/officials"
AFTER_ACCEPTING = "/account/passkeys"  # officials' main factor is a passkey: add one first
NOTICES = {
    "changed": N_("The role is changed. The official was signed out everywhere."),
    "removed": N_("The official is removed and was signed out everywhere."),
}


@router.get(BASE, response_class=HTMLResponse)
async def officials_page(
    request: Request, session: Session, staff: StaffAdministrator, done: str = ""
) -> HTMLResponse:
    notice = _(NOTICES[done]) if done in NOTICES else None
    return await _officials_response(request, session, staff, FormErrors(), notice=notice)


@router.post(BASE, response_class=HTMLResponse)
async def invite(request: Request, session: Session, staff: StaffAdministrator) -> HTMLResponse:
    """Email an invitation; only the address and the role are read from the form."""
    form = await request.form()
    check_csrf(request, form)
    email, role = _text(form, "email"), _text(form, "role")
    try:
        chosen = officials.parse_role(role)
        token, address = await officials.do_invite(
            session, staff.tenant, email, chosen, staff.person_id, _now()
        )
    except (InvalidInput, officials.AlreadyAnOfficial) as error:
        errors = FormErrors([FormError.of(error, f"#{error.field or 'email'}")])
        return await _officials_response(
            request, session, staff, errors, email=email, role=role, status=error.status
        )
    await _send_invitation(request, staff, address, chosen, token)
    notice = _("An invitation was sent to {email}.", email=address)
    return await _officials_response(request, session, staff, FormErrors(), notice=notice)


@router.post(BASE + "/{person_id}/role")
async def change_role(
    request: Request, person_id: str, session: Session, staff: StaffAdministrator
) -> Response:
    form = await request.form()
    check_csrf(request, form)
    person = _person_id(person_id)
    try:
        role = officials.parse_role(_text(form, "role"))
        await officials.do_change_role(session, staff.tenant.id, person, role, staff.person_id)
    except (InvalidInput, officials.LastAdministrator) as error:
        return await _refused(request, session, staff, error)
    return _back(staff, "changed")


@router.post(BASE + "/{person_id}/remove")
async def remove(
    request: Request, person_id: str, session: Session, staff: StaffAdministrator
) -> Response:
    check_csrf(request, await request.form())
    person = _person_id(person_id)
    try:
        await officials.do_remove(session, staff.tenant.id, person, staff.person_id)
    except officials.LastAdministrator as error:
        return await _refused(request, session, staff, error)
    return _back(staff, "removed")


# --- accepting an invitation -----------------------------------------------------------------


@router.get("/staff/invitations/{token}", response_class=HTMLResponse)
async def invitation_page(request: Request, token: str, session: Session) -> HTMLResponse:
    """A button to press: opening the link alone does not use the invitation."""
    try:
        invitation, tenant = await officials.check_invitation(session, token, _now())
    except officials.InvitationUnusable as error:
        return _invitation_failed(request, error)
    html = render(
        "staff/invitation.html",
        request=request,
        token=token,
        email=invitation.email,
        tenant=tenant,
        role=officials.ROLE_NAMES[OfficialRole(invitation.role)],
    )
    return HTMLResponse(html, headers=NOT_STORED)


@router.post("/staff/invitations/{token}")
async def accept_invitation(request: Request, token: str, session: Session) -> Response:
    check_csrf(request, await request.form())
    try:
        invitation, person = await officials.do_accept(session, token, _now())
        await sessions.sign_in(request, session, person, SignInMethod.EMAIL, Assurance.LOW)
    except officials.InvitationUnusable as error:
        return _invitation_failed(request, error)
    except sessions.AccountDisabled:
        raise officials.InvitationUnusable(
            N_("This account has been disabled. Ask the body's administrator."), field="token"
        ) from None
    request.session["email"] = invitation.email
    passkeys.allow_registration(request)  # their first passkey needs no card sign-in
    return RedirectResponse(AFTER_ACCEPTING, status_code=303)


def _invitation_failed(request: Request, error: MadoguchiError) -> HTMLResponse:
    html = render("staff/invitation_failed.html", request=request, error=error)
    return HTMLResponse(html, status_code=error.status, headers=NOT_STORED)


# --- shared ----------------------------------------------------------------------------------


async def _officials_response(
    request: Request,
    session: AsyncSession,
    staff: StaffMember,
    errors: FormErrors,
    *,
    email: str = "",
    role: str = "",
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    html = render(
        "staff/officials.html",
        request=request,
        tenant=staff.tenant,
        staff=staff,
        officials=await officials.list_officials(session, staff.tenant.id),
        invitations=await officials.pending_invitations(session, staff.tenant.id, _now()),
        roles=[(role, officials.ROLE_NAMES[role]) for role in OfficialRole],
        role_names=officials.ROLE_NAMES,
        errors=errors,
        email=email,
        role=role,
        notice=notice,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def _refused(
    request: Request, session: AsyncSession, staff: StaffMember, error: MadoguchiError
) -> HTMLResponse:
    errors = FormErrors([FormError.of(error)])
    return await _officials_response(request, session, staff, errors, status=error.status)


async def _send_invitation(
    request: Request, staff: StaffMember, email: str, role: OfficialRole, token: str
) -> None:
    settings = settings_of(request)
    await email_sender(request)(
        settings,
        email,
        "official_invitation",
        link=officials.invitation_url(settings, token),
        body=staff.tenant.name,
        role=_(officials.ROLE_NAMES[role]),
        inviter=staff.name,
        days=officials.INVITATION_DAYS,
        site=settings.resolved_public_url(),
    )


def _back(staff: StaffMember, done: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/bodies/{staff.tenant.code}/officials?done={done}", 303)


def _person_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(N_("There is no such official in this body."), field="person") from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
