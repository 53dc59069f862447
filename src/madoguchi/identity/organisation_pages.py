"""Pages of the organisations a person acts for: register one, its members, invitations, and
the capacity the session acts in (``/account/acting-for``).

Every id that arrives in a form or an address (an organisation, a member) is only a question:
the answer comes from the memberships of the person signed in, and an organisation they are not
a member of is a 404, whether or not it exists.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, InvalidInputs, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.sessions import check_csrf
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.identity import organisation_members as members
from madoguchi.identity import organisations, sessions
from madoguchi.identity.email_links import TooManyLinks, parse_email
from madoguchi.identity.models import Assurance, OrganisationKind, SignInMethod
from madoguchi.identity.organisation_numbers import check_registration

router = APIRouter(include_in_schema=False)

NOT_STORED = {"Cache-Control": "no-store"}  # a page whose address holds an invitation token
REGISTRATION_FIELDS = ("kind", "name", "corporate_number", "medical_institution_code")


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)


def _page(template: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    html = render(
        f"identity/{template}",
        request=request,
        language_of=organisations.text_language,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _uuid(raw: str, field: str) -> uuid.UUID:
    """An id from an address or a form; one that is not an id leads nowhere (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(N_("There is no such organisation among yours."), field=field) from None


# --- Your organisations and registering one ------------------------------------------------------


@router.get("/account/organisations", response_class=HTMLResponse)
async def organisations_page(request: Request, db: Session) -> Response:
    visitor = sessions.visitor(request)
    if visitor.person_id is None:
        return _to_sign_in(request)
    return await _organisations(request, db, visitor.person_id, visitor.assurance, {}, FormErrors())


@router.post("/account/organisations", response_class=HTMLResponse)
async def register(request: Request, db: Session) -> Response:
    visitor = sessions.visitor(request)
    if visitor.person_id is None:
        return _to_sign_in(request)
    form = await request.form()
    check_csrf(request, form)
    typed = {name: str(form.get(name, "")) for name in REGISTRATION_FIELDS}
    errors = FormErrors()
    try:
        registration = check_registration(typed)
        organisation = await organisations.do_register(
            db, visitor.person_id, visitor.assurance, registration
        )
    except InvalidInputs as problems:
        errors.items += [FormError.of(problem) for problem in problems.problems]
        status = 422
    except (InvalidInput, organisations.CardSignInNeeded) as error:
        errors.items.append(FormError.of(error))
        status = error.status
    else:
        return RedirectResponse(f"/account/organisations/{organisation.id}", status_code=303)
    return await _organisations(
        request, db, visitor.person_id, visitor.assurance, typed, errors, status
    )


async def _organisations(
    request: Request,
    db: Session,
    person_id: uuid.UUID,
    assurance: Assurance,
    typed: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        "organisations.html",
        request,
        status,
        memberships=await organisations.list_memberships_of(db, person_id),
        card_proven=assurance >= Assurance.HIGH,
        kinds=list(OrganisationKind),
        typed=typed,
        errors=errors,
    )


# --- One organisation and its members ------------------------------------------------------------


@router.get("/account/organisations/{organisation_id}", response_class=HTMLResponse)
async def organisation_page(request: Request, organisation_id: str, db: Session) -> Response:
    if sessions.visitor(request).person_id is None:
        return _to_sign_in(request)
    return await _members_page(request, db, _uuid(organisation_id, "organisation"))


@router.post("/account/organisations/{organisation_id}/invite", response_class=HTMLResponse)
async def invite(request: Request, organisation_id: str, db: Session) -> Response:
    person_id, form = await _signed_in_form(request)
    organisation = _uuid(organisation_id, "organisation")
    await members.check_representative(db, person_id, organisation)
    typed = str(form.get("email", ""))
    errors = FormErrors()
    email = errors.attempt(lambda: parse_email(typed, "email"))
    if email is None:
        return await _members_page(request, db, organisation, typed, errors, status=422)
    settings = _settings(request)
    try:
        token = await members.do_invite(db, settings, person_id, organisation, email, _now())
    except TooManyLinks as error:
        errors.items.append(FormError.of(error))
        return await _members_page(request, db, organisation, typed, errors, status=error.status)
    name = await organisations.organisation_name(db, organisation)
    await request.app.state.send_email(
        settings,
        email,
        "organisation_invitation",
        link=settings.resolved_public_url() + members.invitation_path(token),
        organisation=name,
        minutes=settings.sign_in_link_minutes,
        site=settings.resolved_public_url(),
    )
    return await _members_page(request, db, organisation, invited=email)


@router.post("/account/organisations/{organisation_id}/remove")
async def remove(request: Request, organisation_id: str, db: Session) -> Response:
    person_id, form = await _signed_in_form(request)
    organisation = _uuid(organisation_id, "organisation")
    member = _uuid(str(form.get("person", "")), "person")
    await members.do_remove_member(db, person_id, organisation, member)
    return RedirectResponse(f"/account/organisations/{organisation}", status_code=303)


@router.post("/account/organisations/{organisation_id}/hand-over")
async def hand_over(request: Request, organisation_id: str, db: Session) -> Response:
    person_id, form = await _signed_in_form(request)
    organisation = _uuid(organisation_id, "organisation")
    member = _uuid(str(form.get("person", "")), "person")
    await members.do_hand_over(db, person_id, organisation, member)
    sessions.change_privilege(request)  # this person's role changed
    return RedirectResponse(f"/account/organisations/{organisation}", status_code=303)


@router.post("/account/organisations/{organisation_id}/leave")
async def leave(request: Request, organisation_id: str, db: Session) -> Response:
    person_id, _form = await _signed_in_form(request)
    organisation = _uuid(organisation_id, "organisation")
    try:
        await members.do_leave(db, person_id, organisation)
    except InvalidInput as error:
        errors = FormErrors([FormError.of(error)])
        return await _members_page(request, db, organisation, errors=errors, status=error.status)
    await organisations.current_acting_for(request, db)  # stops acting for it here
    return RedirectResponse("/account/organisations", status_code=303)


async def _signed_in_form(request: Request) -> tuple[uuid.UUID, FormData]:
    """The person signed in and the form they posted (its token checked)."""
    form = await request.form()
    check_csrf(request, form)
    person_id = sessions.visitor(request).person_id
    if person_id is None:
        raise NotFound(N_("There is no such organisation among yours."), field="organisation")
    return person_id, form


async def _members_page(
    request: Request,
    db: Session,
    organisation_id: uuid.UUID,
    typed_email: str = "",
    errors: FormErrors | None = None,
    invited: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    person_id = sessions.visitor(request).person_id
    mine = await organisations.access_organisation_by_id(db, person_id, organisation_id)
    return _page(
        "organisations_members.html",
        request,
        status,
        mine=mine,
        organisation=mine.organisation,
        members=await members.list_members(db, organisation_id),
        you=person_id,
        typed_email=typed_email,
        errors=errors or FormErrors(),
        invited=invited,
    )


# --- Invitations ---------------------------------------------------------------------------------


@router.get("/account/invitations/{token}", response_class=HTMLResponse)
async def invitation_page(request: Request, token: str, db: Session) -> Response:
    """A button to press: opening the link alone (as mail scanners do) does not use it."""
    try:
        invitation = await members.read_invitation(db, _settings(request), token, _now())
    except members.InvitationUnusable as error:
        return _invitation_failed(request, error)
    return HTMLResponse(
        render(
            "identity/organisations_invitation.html",
            request=request,
            invitation=invitation,
            token=token,
            signed_in=sessions.visitor(request).signed_in,
            language_of=organisations.text_language,
        ),
        headers=NOT_STORED,
    )


@router.post("/account/invitations/{token}")
async def accept_invitation(request: Request, token: str, db: Session) -> Response:
    check_csrf(request, await request.form())
    signed_in = sessions.visitor(request).person_id
    try:
        invitation, person = await members.do_accept(
            db, _settings(request), token, _now(), signed_in
        )
    except members.InvitationUnusable as error:
        return _invitation_failed(request, error)
    if signed_in is None:
        try:
            await sessions.sign_in(request, db, person, SignInMethod.EMAIL, Assurance.LOW)
        except sessions.AccountDisabled:  # raised, so that the membership is rolled back
            raise members.InvitationUnusable(
                N_("This account has been disabled. Ask the public body that disabled it."),
                field="token",
            ) from None
        request.session["email"] = invitation.email
    return RedirectResponse(f"/account/organisations/{invitation.organisation.id}", status_code=303)


def _invitation_failed(request: Request, error: members.InvitationUnusable) -> HTMLResponse:
    html = render("identity/organisations_invitation_failed.html", request=request, error=error)
    return HTMLResponse(html, status_code=error.status, headers=NOT_STORED)


# --- Acting for an organisation ------------------------------------------------------------------


@router.get("/account/acting-for", response_class=HTMLResponse)
async def acting_for_page(request: Request, db: Session) -> Response:
    person_id = sessions.visitor(request).person_id
    if person_id is None:
        return _to_sign_in(request)
    return _page(
        "organisations_acting_for.html",
        request,
        memberships=await organisations.list_memberships_of(db, person_id),
        current=await organisations.current_acting_for(request, db),
    )


@router.post("/account/acting-for")
async def choose_acting_for(request: Request, db: Session) -> Response:
    _person_id, form = await _signed_in_form(request)
    chosen = str(form.get("organisation", ""))
    organisation = _uuid(chosen, "organisation") if chosen else None
    await organisations.do_act_for(request, db, organisation)
    return RedirectResponse("/account/acting-for", status_code=303)
