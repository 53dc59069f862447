"""Signing in by email until [P3] brings the My Number card and passkeys (assurance: low).

``/sign-in`` asks for an address and emails a one-time link to it; the page that follows says the
same whatever the address, so it reveals nothing about who has used the site. Opening the link
shows a button, and only pressing it uses the link: mail scanners that open every link in a
message must not spend it. Sending is the notifications domain's work, which sits above identity:
``web.app`` hands its sender to the application as ``app.state.send_email``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.core.attempts import client_address
from madoguchi.core.dependencies import Session
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.sessions import check_csrf, signed_in_email
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.identity import sessions
from madoguchi.identity.email_links import (
    LinkUnusable,
    TooManyLinks,
    check_client_not_flooding,
    check_link,
    create_link,
    is_local_path,
    link_url,
    parse_email,
    use_link,
)
from madoguchi.identity.models import Assurance, SignInMethod
from madoguchi.identity.people import person_for_email

router = APIRouter(include_in_schema=False)

ACCOUNT_DISABLED = LinkUnusable(
    N_("This account has been disabled. Ask the public body that disabled it."), field="token"
)

AFTER_SIGN_IN = "/me"  # where a sign-in leads when it was not asked for on the way to a page
NOT_STORED = {"Cache-Control": "no-store"}  # a page whose address holds a sign-in token


class EmailSender(Protocol):
    async def __call__(self, settings: Settings, to: str, template: str, **context: Any) -> None:
        """Render the email ``template`` in the request's language and send it to ``to``."""


def email_sender(request: Request) -> EmailSender:
    return cast(EmailSender, request.app.state.send_email)


def settings_of(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def next_or_default(target: str | None) -> str:
    return target if target and is_local_path(target) else AFTER_SIGN_IN


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(
    request: Request, next: str | None = None, level: str | None = None
) -> HTMLResponse:
    """The ways to sign in. ``level=high`` (a procedure asks for the card) offers only the ways
    that prove it: the card, or a passkey added with it."""
    high = level == "high"
    email = "" if high else signed_in_email(request) or ""
    return _sign_in_page(request, next_or_default(next), email, high=high)


@router.post("/sign-in", response_class=HTMLResponse)
async def send_sign_in_link(request: Request, session: Session) -> HTMLResponse:
    form = await request.form()
    check_csrf(request, form)
    typed = str(form.get("email", ""))
    next_path = next_or_default(str(form.get("next", "")))
    errors = FormErrors()
    email = errors.attempt(lambda: parse_email(typed, "email"))
    if email is None:
        return _sign_in_page(request, next_path, typed, errors, status=422)
    settings = settings_of(request)
    try:
        await check_client_not_flooding(session, client_address(request), _now())
        token = await create_link(session, email, next_path, _now(), settings)
    except TooManyLinks as error:
        errors.items.append(FormError.of(error))
        return _sign_in_page(request, next_path, typed, errors, status=error.status)
    await email_sender(request)(
        settings,
        email,
        "sign_in",
        link=link_url(settings, token),
        minutes=settings.sign_in_link_minutes,
        site=settings.resolved_public_url(),
    )
    html = render(
        "identity/check_email.html",
        request=request,
        email=email,
        minutes=settings.sign_in_link_minutes,
        next_path=next_path,
    )
    return HTMLResponse(html)


def _sign_in_page(
    request: Request,
    next_path: str,
    email: str,
    errors: FormErrors | None = None,
    status: int = 200,
    *,
    high: bool = False,
) -> HTMLResponse:
    html = render(
        "identity/sign_in.html",
        request=request,
        next_path=next_path,
        email=email,
        errors=errors or FormErrors(),
        high=high,
    )
    return HTMLResponse(html, status_code=status)


@router.get("/sign-in/{token}", response_class=HTMLResponse)
async def confirm_sign_in(request: Request, token: str, session: Session) -> HTMLResponse:
    """A button to press: opening the link alone (as mail scanners do) does not use it."""
    try:
        link = await check_link(session, token, _now())
    except LinkUnusable as error:
        return _link_failed(request, error)
    html = render("identity/confirm.html", request=request, email=link.email, token=token)
    return HTMLResponse(html, headers=NOT_STORED)


@router.post("/sign-in/{token}")
async def sign_in(request: Request, token: str, session: Session) -> Response:
    check_csrf(request, await request.form())
    try:
        link = await use_link(session, token, _now())
    except LinkUnusable as error:
        return _link_failed(request, error)
    person = await person_for_email(session, link.email)
    try:
        await sessions.sign_in(request, session, person, SignInMethod.EMAIL, Assurance.LOW)
    except sessions.AccountDisabled:
        return _link_failed(request, ACCOUNT_DISABLED)
    request.session["email"] = link.email
    return RedirectResponse(next_or_default(link.next_path), status_code=303)


def _link_failed(request: Request, error: LinkUnusable) -> HTMLResponse:
    html = render("identity/link_failed.html", request=request, error=error)
    return HTMLResponse(html, status_code=error.status, headers=NOT_STORED)


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out_here(request: Request) -> HTMLResponse:
    check_csrf(request, await request.form())
    sessions.sign_out(request)
    return HTMLResponse(render("identity/signed_out.html", request=request))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
