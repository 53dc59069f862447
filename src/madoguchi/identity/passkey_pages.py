"""Passkey routes: the account's passkeys page, and the JSON steps that ``static/passkeys.js``
posts with ``fetch`` for adding a passkey and for signing in with one.

A JSON post carries the session's form token in the ``X-CSRF-Token`` header (a form from
another site cannot set a header). Every refusal is a problem+json answer returned, not raised,
so that what it wrote (the failure that counts towards the rate limit, the audit entry of a
suspected clone) is committed with the request's unit of work.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import uuid
from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import format_moment
from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.sessions import CSRF_FIELD, CsrfFailure, check_csrf
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.identity import passkeys, sessions
from madoguchi.identity.email_links import is_local_path
from madoguchi.identity.models import Assurance, Person, SignInMethod

router = APIRouter(include_in_schema=False)

PASSKEYS_PATH = "/account/passkeys"
CARD_SIGN_IN = "/sign-in/card/start"  # identity.card_sign_in: a fresh card sign-in, then next
AFTER_SIGN_IN = "/me"
CSRF_HEADER = "X-CSRF-Token"
MAX_BODY = 64 * 1024  # a credential is a few kilobytes at most
PROBLEM_JSON = "application/problem+json"
NOT_STORED = {"Cache-Control": "no-store"}
JAPANESE_SCRIPT = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


class NotSignedIn(MadoguchiError):
    code = "not-signed-in"
    status = 401
    title = N_("Sign in first")


class AccountDisabled(MadoguchiError):
    code = "account-disabled"
    status = 403
    title = N_("This account has been disabled")


class BadRequestBody(MadoguchiError):
    code = "invalid-input"
    status = 400
    title = N_("The request could not be read")


# --- The account's passkeys ----------------------------------------------------------------


@router.get(PASSKEYS_PATH, response_class=HTMLResponse)
async def passkeys_page(request: Request, session: Session) -> Response:
    person = await _signed_in_person(request, session)
    if person is None:
        return RedirectResponse(f"/sign-in?next={quote(PASSKEYS_PATH)}", status_code=303)
    now = _now()
    html = render(
        "identity/passkeys.html",
        request=request,
        passkeys=await passkeys.list_passkeys(session, person.id),
        may_change=passkeys.may_change_passkeys(request, now),
        card_proof=passkeys.card_proof_state(request, now),
        card_sign_in=card_sign_in_path(),
        minutes=passkeys.STEP_UP_MINUTES,
        added=request.query_params.get("added") == "1",
        removed=request.query_params.get("removed") == "1",
        moment=_on_screen,
        language_of=_language_of,
    )
    return HTMLResponse(html, headers=NOT_STORED)


@router.post(PASSKEYS_PATH + "/options")
async def registration_options(request: Request, session: Session) -> Response:
    try:
        _check_csrf_header(request)
        person = await _person_who_may_change(request, session)
        rp = passkeys.relying_party(_settings(request))
        options = await passkeys.registration_options(session, request, person, rp, _now())
    except MadoguchiError as error:
        return _problem(request, error)
    return JSONResponse(options, headers=NOT_STORED)


@router.post(PASSKEYS_PATH)
async def add_passkey(request: Request, session: Session) -> Response:
    try:
        _check_csrf_header(request)
        person = await _person_who_may_change(request, session)
        body = await _json_body(request)
        rp = passkeys.relying_party(_settings(request))
        name = body.get("name")
        credential = _credential_of(body)
        await passkeys.add_passkey(
            session, request, person, credential, name if isinstance(name, str) else "", rp, _now()
        )
    except MadoguchiError as error:
        return _problem(request, error)
    return JSONResponse({"location": PASSKEYS_PATH + "?added=1"})


@router.post(PASSKEYS_PATH + "/{passkey_id}/remove")
async def remove_passkey(request: Request, passkey_id: uuid.UUID, session: Session) -> Response:
    check_csrf(request, await request.form())
    person = await _signed_in_person(request, session)
    if person is None:
        return RedirectResponse(f"/sign-in?next={quote(PASSKEYS_PATH)}", status_code=303)
    if not passkeys.may_change_passkeys(request, _now()):
        return RedirectResponse(card_sign_in_path(), status_code=303)
    await passkeys.remove_passkey(session, person.id, passkey_id)
    return RedirectResponse(PASSKEYS_PATH + "?removed=1", status_code=303)


def card_sign_in_path(next_path: str = PASSKEYS_PATH) -> str:
    return f"{CARD_SIGN_IN}?next={quote(next_path)}"


# --- Signing in ----------------------------------------------------------------------------


@router.post("/sign-in/passkey/options")
async def sign_in_options(request: Request, session: Session) -> Response:
    now = _now()
    try:
        _check_csrf_header(request)
        await passkeys.check_attempts(session, request, now)
        options = passkeys.authentication_options(
            request, passkeys.relying_party(_settings(request)), now
        )
    except MadoguchiError as error:
        return _problem(request, error)
    return JSONResponse(options, headers=NOT_STORED)


@router.post("/sign-in/passkey")
async def sign_in_with_passkey(request: Request, session: Session) -> Response:
    now = _now()
    try:
        _check_csrf_header(request)
        await passkeys.check_attempts(session, request, now)
        body = await _json_body(request)
    except MadoguchiError as error:
        return _problem(request, error)
    try:
        await _sign_in(request, session, body, now)
    except passkeys.PasskeyRefused as error:
        await passkeys.note_failure(session, request, now)
        return _problem(request, error)
    except MadoguchiError as error:
        return _problem(request, error)
    next_path = body.get("next")
    location = next_path if isinstance(next_path, str) and is_local_path(next_path) else None
    return JSONResponse({"location": location or AFTER_SIGN_IN})


async def _sign_in(
    request: Request, db: AsyncSession, body: dict[str, Any], now: dt.datetime
) -> None:
    rp = passkeys.relying_party(_settings(request))
    passkey = await passkeys.check_assertion(db, request, _credential_of(body), rp, now)
    person = await db.get(Person, passkey.person_id)
    if person is None:  # cannot happen: a foreign key holds it
        raise passkeys.PasskeyRefused(passkeys.UNKNOWN)
    assurance = Assurance.HIGH if passkey.card_bound else Assurance.LOW
    try:
        await sessions.sign_in(request, db, person, SignInMethod.PASSKEY, assurance)
    except sessions.AccountDisabled:
        raise AccountDisabled(
            N_("This account has been disabled. Ask the public body that disabled it.")
        ) from None


# --- Shared --------------------------------------------------------------------------------


def _check_csrf_header(request: Request) -> None:
    expected = request.session.get(CSRF_FIELD)
    given = request.headers.get(CSRF_HEADER)
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfFailure(
            N_("This page has expired or did not come from this site. Reload it and try again.")
        )


async def _signed_in_person(request: Request, db: AsyncSession) -> Person | None:
    person_id = sessions.visitor(request).person_id
    return await db.get(Person, person_id) if person_id else None


async def _person_who_may_change(request: Request, db: AsyncSession) -> Person:
    person = await _signed_in_person(request, db)
    if person is None:
        raise NotSignedIn(N_("Sign in first, then add a passkey to your account."))
    passkeys.check_may_change(request, _now())
    return person


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        if len(raw) > MAX_BODY:
            raise ValueError("too large")
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequestBody(N_("The request was not the JSON object this step expects."))
    return body


def _credential_of(body: dict[str, Any]) -> dict[str, Any]:
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise passkeys.PasskeyRefused(passkeys.MALFORMED)
    return credential


def _problem(request: Request, error: MadoguchiError) -> JSONResponse:
    document: dict[str, Any] = {
        "type": error.type_uri,
        "code": error.code,
        "title": _(error.title),
        "status": error.status,
        "detail": _(error.message, **error.params),
        "instance": request.url.path,
    }
    if isinstance(error, passkeys.CardSignInNeeded):
        document["location"] = card_sign_in_path()
    return JSONResponse(
        document, status_code=error.status, media_type=PROBLEM_JSON, headers=NOT_STORED
    )


def _language_of(name: str) -> str:
    """A name the person typed, in Japanese script or not (for its lang attribute)."""
    return "ja" if JAPANESE_SCRIPT.search(name) else "en"


def _on_screen(moment: dt.datetime) -> str:
    return format_moment(moment, current_language())


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
