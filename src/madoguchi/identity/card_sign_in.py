"""Signing in with the My Number card (assurance: high), as an OpenID Connect relying party.

``/sign-in/card/start`` sends the browser to the provider's authorization endpoint with a fresh
state, nonce and PKCE verifier, kept in this browser's server-side session; the provider sends it
back to ``/sign-in/card/callback``, where the state is taken out of the session (it works once),
the code is exchanged, and the ID token is checked (``card_oidc``). Then the card's subject leads
to its person, with the attributes the card stated, and the session is rotated and marked high.
Whatever goes wrong is a page that says what happened and how to go on.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.core.templating import environment, render
from madoguchi.identity import sessions
from madoguchi.identity.card_oidc import (
    CALLBACK_PATH,
    CardProvider,
    CardSignInFailed,
    card_provider,
    check_id_token,
    discover,
    exchange_code,
    fetch_jwks,
    oauth_client,
)
from madoguchi.identity.email_links import is_local_path
from madoguchi.identity.models import Assurance, SignInMethod
from madoguchi.identity.people import CardAttributes, person_for_card

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class CardChoices:
    available: bool  # a provider is configured (or the simulator runs)
    simulator: bool  # it is the built-in simulator: offer a virtual card


def card_sign_in_choices(request: Request) -> CardChoices:
    """What /sign-in offers (identity/_sign_in_card.html calls it)."""
    provider = card_provider(_settings(request))
    return CardChoices(provider is not None, provider is not None and provider.built_in)


# The sign-in page's template asks this module what to offer; the page itself is identity.pages'.
environment().globals["card_sign_in_choices"] = card_sign_in_choices

PENDING_KEY = "card_sign_in"  # in request.session: state -> what the callback needs
PENDING_MOST = 3  # sign-ins started in other tabs and not finished
PENDING_FOR = dt.timedelta(minutes=15)
AFTER_SIGN_IN = "/me"
NOT_STORED = {"Cache-Control": "no-store"}


class CardSignInUnavailable(MadoguchiError):
    code = "card-sign-in-unavailable"
    status = 503
    title = N_("Signing in with the card is not available")


class CardSignInStopped(MadoguchiError):
    code = "card-sign-in-stopped"
    status = 400
    title = N_("You were not signed in")


UNAVAILABLE = CardSignInUnavailable(
    N_("This site has no card sign-in service configured. Sign in with your email address.")
)
EXPIRED = CardSignInStopped(
    N_(
        "This sign-in was already finished, or was started too long ago or in another browser. "
        "Start again from the sign-in page."
    )
)
PROVIDER_ERRORS = {
    "access_denied": N_(
        "You stopped signing in with your card. You can try again, or sign in another way."
    ),
    "card_locked": N_(
        "Your card is locked after five wrong tries, so you were not signed in. With a real "
        "card, your municipality's counter can reset it."
    ),
}
PROVIDER_REFUSED = N_("The card's sign-in service could not sign you in. Try again later.")
DISABLED = CardSignInStopped(
    N_("This account has been disabled. Ask the public body that disabled it.")
)


@router.get("/sign-in/card/start")
async def start_card_sign_in(request: Request, next: str | None = None) -> Response:
    provider = card_provider(_settings(request))
    if provider is None:
        return _failed(request, UNAVAILABLE, next)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    verifier += secrets.token_urlsafe(32)  # PKCE wants 43 to 128 characters
    try:
        async with _client(request, provider) as client:
            metadata = await discover(client, provider, _base(request))
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
    except CardSignInFailed as error:
        return _failed(request, error, next)
    _remember(request, state, nonce, verifier, _local(next))
    return RedirectResponse(url, status_code=303)


@router.get("/sign-in/card/callback")
async def finish_card_sign_in(
    request: Request,
    session: Session,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    pending = _take(request, state)
    if pending is None:
        return _failed(request, EXPIRED, None)
    next_path = str(pending["next"])
    provider = card_provider(_settings(request))
    if provider is None:
        return _failed(request, UNAVAILABLE, next_path)
    if error or not code:
        message = PROVIDER_ERRORS.get(error, PROVIDER_REFUSED)
        return _failed(request, CardSignInStopped(message), next_path)
    try:
        claims = await _verified_claims(request, provider, code, pending)
    except CardSignInFailed as failure:
        return _failed(request, failure, next_path)
    person = await person_for_card(session, provider.issuer, claims["sub"], _attributes(claims))
    try:
        await sessions.sign_in(request, session, person, SignInMethod.CARD, Assurance.HIGH)
    except sessions.AccountDisabled:
        return _failed(request, DISABLED, None)
    return RedirectResponse(next_path, status_code=303)


async def _verified_claims(
    request: Request, provider: CardProvider, code: str, pending: dict[str, Any]
) -> dict[str, Any]:
    async with _client(request, provider) as client:
        metadata = await discover(client, provider, _base(request))
        id_token = await exchange_code(client, metadata, code, str(pending["verifier"]))
        jwks = await fetch_jwks(client, metadata)
    return check_id_token(id_token, jwks, provider, str(pending["nonce"]), _now())


def _attributes(claims: dict[str, Any]) -> CardAttributes:
    """The four attributes, when the card stated them (the signature password was given)."""
    birthdate = claims.get("birthdate")
    try:
        born = dt.date.fromisoformat(birthdate) if isinstance(birthdate, str) else None
    except ValueError:
        born = None
    return CardAttributes(
        name=_text(claims.get("name")),
        address=_text(claims.get("address")),
        birthdate=born,
        gender=_text(claims.get("gender")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _remember(request: Request, state: str, nonce: str, verifier: str, next_path: str) -> None:
    pending = _pending(request)
    pending[state] = {
        "nonce": nonce,
        "verifier": verifier,
        "next": next_path,
        "started": _now().isoformat(),
    }
    newest = sorted(pending.items(), key=lambda item: str(item[1]["started"]))[-PENDING_MOST:]
    request.session[PENDING_KEY] = dict(newest)


def _take(request: Request, state: str) -> dict[str, Any] | None:
    """The sign-in this state started, removed from the session: a state works once."""
    pending = _pending(request)
    taken = pending.pop(state, None) if state else None
    request.session[PENDING_KEY] = pending
    if not isinstance(taken, dict):
        return None
    started = dt.datetime.fromisoformat(str(taken.get("started")))
    return taken if _now() - started <= PENDING_FOR else None


def _pending(request: Request) -> dict[str, Any]:
    stored = request.session.get(PENDING_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _client(request: Request, provider: CardProvider) -> Any:
    redirect_base = (
        _base(request) if provider.built_in else _settings(request).resolved_public_url()
    )
    return oauth_client(provider, request.app, _base(request), redirect_base + CALLBACK_PATH)


def _failed(request: Request, error: MadoguchiError, next_path: str | None) -> HTMLResponse:
    html = render(
        "identity/card_failed.html", request=request, error=error, next_path=_local(next_path)
    )
    return HTMLResponse(html, status_code=error.status, headers=NOT_STORED)


def _local(target: str | None) -> str:
    return target if target and is_local_path(target) else AFTER_SIGN_IN


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
