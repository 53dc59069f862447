"""The browser's side of the provider: /oidc/authorize and the consent screen.

The person must be signed in on madoguchi (otherwise: /sign-in, and back here after it), as
strongly as the client asks with ``acr_values`` (otherwise: asked to step up with the card), and
must have allowed the client the attributes it asks for (otherwise: the consent screen). A
request waiting for consent is kept in the server-side session, not in the form, so the form
cannot be edited to ask for more than the screen showed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_, current_language
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.models import Person
from madoguchi.identity.provider import service
from madoguchi.identity.provider.claims import required_assurance, shown_values
from madoguchi.identity.provider.routes import AUTHORIZE_PATH, provider_of
from madoguchi.identity.sessions import Visitor, visitor

router = APIRouter(include_in_schema=False)

CONSENT_PATH = AUTHORIZE_PATH + "/consent"
PENDING_KEY = "oidc_pending"  # requests waiting for the person's answer, by a random id
MAX_PENDING = 5
NOT_STORED = {"Cache-Control": "no-store"}
CARD_SIGN_IN = "/sign-in/card/start"  # identity.card_sign_in: a fresh card sign-in, then next


class ConsentExpired(MadoguchiError):
    code = "oidc-consent-expired"
    status = 400
    title = N_("This request has expired")


@router.get(AUTHORIZE_PATH)
async def authorize(request: Request, session: Session) -> Response:
    items = list(request.query_params.multi_items())
    try:
        client, auth = await service.check_authorization_request(session, items)
    except service.AuthorizationRefused as refused:
        params = dict(items)
        return _refuse(request, params["redirect_uri"], params.get("state"), refused)
    return await _continue(request, session, client, auth)


async def _continue(
    request: Request,
    session: Session,
    client: service.OidcClient,
    auth: service.AuthorizationRequest,
) -> Response:
    who = visitor(request)
    person = await service.get_person(session, who.person_id) if who.person_id else None
    if person is None or who.assurance < required_assurance(auth.acr_values):
        return _sign_in_first(request, client, auth, signed_in=person is not None)
    if auth.prompt != "consent" and await service.consent_covers(
        session, person.id, client.client_id, auth.scopes
    ):
        return await _grant(request, session, auth, person.id, who, status=302)
    if auth.prompt == "none":
        return _refuse(request, auth.redirect_uri, auth.state, _refused("consent_required"))
    return _consent_page(request, client, auth, person)


def _sign_in_first(
    request: Request,
    client: service.OidcClient,
    auth: service.AuthorizationRequest,
    *,
    signed_in: bool,
) -> Response:
    """Not signed in: to /sign-in and back. Signed in too weakly: a page asking to step up."""
    if auth.prompt == "none":
        return _refuse(request, auth.redirect_uri, auth.state, _refused("login_required"))
    back = quote(authorize_url(auth), safe="")
    if not signed_in:
        return RedirectResponse(f"/sign-in?next={back}", status_code=302)
    html = render(
        "provider/step_up.html",
        request=request,
        client_name=_name_of(client),
        card_sign_in=f"{CARD_SIGN_IN}?next={back}",
    )
    return HTMLResponse(html, headers=NOT_STORED)


def _consent_page(
    request: Request, client: service.OidcClient, auth: service.AuthorizationRequest, person: Person
) -> HTMLResponse:
    pending_id = _remember(request, auth, person)
    html = render(
        "provider/consent.html",
        request=request,
        client_name=_name_of(client),
        attributes=shown_values(person, list(auth.scopes)),
        pending_id=pending_id,
        action=CONSENT_PATH,
    )
    return HTMLResponse(html, headers=NOT_STORED)


@router.post(CONSENT_PATH)
async def answer_consent(request: Request, session: Session) -> Response:
    form = await request.form()
    check_csrf(request, form)
    auth, person_id = _recall(request, str(form.get("request", "")))
    await service.check_client_and_redirect(session, auth.client_id, auth.redirect_uri)
    who = visitor(request)
    if form.get("decision") != "allow":
        denied = _refused("access_denied", "the person did not allow it")
        return _refuse(request, auth.redirect_uri, auth.state, denied, status=303)
    await service.do_grant_consent(session, person_id, auth.client_id, auth.scopes, _now())
    return await _grant(request, session, auth, person_id, who, status=303)


async def _grant(
    request: Request,
    session: Session,
    auth: service.AuthorizationRequest,
    person_id: uuid.UUID,
    who: Visitor,
    *,
    status: int,
) -> Response:
    now = _now()
    code = await service.do_issue_code(
        session, auth, person_id, who.assurance, who.signed_in_at or now, now
    )
    answer = {"code": code, "state": auth.state, "iss": provider_of(request).issuer}
    return _to_client(auth.redirect_uri, answer, status)


# --- Pending requests, kept in the server-side session ---------------------------------------


def _remember(request: Request, auth: service.AuthorizationRequest, person: Person) -> str:
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
    pending_id = secrets.token_urlsafe(16)
    pending[pending_id] = {"person": str(person.id), "request": dataclasses.asdict(auth)}
    request.session[PENDING_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    return pending_id


def _recall(request: Request, pending_id: str) -> tuple[service.AuthorizationRequest, uuid.UUID]:
    """The request the consent screen showed, once; only to the person it was shown to."""
    pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
    kept = pending.pop(pending_id, None)
    request.session[PENDING_KEY] = pending
    who = visitor(request)
    if kept is None or who.person_id is None or kept["person"] != str(who.person_id):
        raise ConsentExpired(
            N_("Go back to the service you came from and start again: nothing was sent to it.")
        )
    fields = dict(kept["request"])
    auth = service.AuthorizationRequest(**{**fields, "scopes": tuple(fields["scopes"])})
    return auth, who.person_id


# --- Answers to the client -------------------------------------------------------------------


def authorize_url(auth: service.AuthorizationRequest) -> str:
    return f"{AUTHORIZE_PATH}?{urlencode(auth.as_parameters())}"


def _refused(error: str, description: str = "") -> service.AuthorizationRefused:
    return service.AuthorizationRefused(error, description or error.replace("_", " "))


def _refuse(
    request: Request,
    redirect_uri: str,
    state: str | None,
    refused: service.AuthorizationRefused,
    status: int = 302,
) -> RedirectResponse:
    answer = {
        "error": refused.error,
        "error_description": refused.description,
        "state": state,
        "iss": provider_of(request).issuer,
    }
    return _to_client(redirect_uri, answer, status)


def _to_client(redirect_uri: str, answer: dict[str, str | None], status: int) -> RedirectResponse:
    """The registered redirect_uri with the answer added to whatever query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in answer.items() if value is not None]
    target = urlunsplit(parts._replace(query=urlencode(query)))
    return RedirectResponse(target, status_code=status, headers=NOT_STORED)


def _name_of(client: service.OidcClient) -> str:
    return client.name_ja if current_language() == "ja" else client.name_en


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
