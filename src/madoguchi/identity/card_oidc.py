"""madoguchi as an OpenID Connect relying party of the card's identity provider.

In production the provider is the Digital Agency's authentication app (``card_issuer``); without
one, in development, tests and the demo, it is the built-in card simulator (``card_simulator``).
Either way the protocol is the same: discovery, the authorization code flow with state, nonce and
PKCE (S256), the code exchanged at the token endpoint with the client secret, and the ID token
checked here: RS256 signature against the provider's JWKS, issuer, audience, nonce, expiry and
issue time. The HTTP calls to the built-in simulator go to this very application in process
(``httpx2.ASGITransport``): no network, no port.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
    AsyncOAuth2Client,
    OAuthError,
)
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc.errors import JoseError
from starlette.types import ASGIApp

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity.jose_keys import InvalidToken, verify_jwt

SCOPE = "openid name address birthdate gender"  # `sign` is for signing ([P4]), not sign-in
CALLBACK_PATH = "/sign-in/card/callback"
SIMULATOR_PATH = "/card-simulator"
DISCOVERY = "/.well-known/openid-configuration"
LEEWAY_SECONDS = 60  # clock skew allowed between us and the provider
FRESH_FOR = dt.timedelta(minutes=10)  # an ID token issued longer ago than this is refused
TIMEOUT = httpx2.Timeout(10.0, connect=5.0)


class CardSignInFailed(MadoguchiError):
    code = "card-sign-in-failed"
    status = 400
    title = N_("Signing in with the card did not work")


PROVIDER_FAILED = N_(
    "The card's sign-in service did not answer as expected. Nothing was changed: try again in "
    "a few minutes."
)
TOKEN_REFUSED = N_(
    "The answer from the card's sign-in service could not be verified, so you were not signed "
    "in. Start again from the sign-in page."
)


@dataclass(frozen=True)
class CardProvider:
    issuer: str
    client_id: str
    client_secret: str
    built_in: bool  # the card simulator of this application


def simulator_issuer(settings: Settings) -> str:
    return settings.resolved_public_url() + SIMULATOR_PATH


def simulator_enabled(settings: Settings) -> bool:
    """The simulator runs when no issuer is configured, except in production, where it runs
    only when the issuer is explicitly set to the simulator's own (a public demo)."""
    if settings.card_issuer:
        return settings.card_issuer.rstrip("/") == simulator_issuer(settings)
    return not settings.is_production


def card_provider(settings: Settings) -> CardProvider | None:
    """The provider card sign-in uses, or None when there is none (production without one, or
    a real provider configured without its client secret)."""
    if simulator_enabled(settings):
        secret = settings.resolved_card_client_secret()
        return CardProvider(simulator_issuer(settings), settings.card_client_id, secret, True)
    if not settings.card_issuer or not settings.card_client_secret:
        return None  # a real provider needs the secret it registered us with
    return CardProvider(
        settings.card_issuer, settings.card_client_id, settings.card_client_secret, False
    )


def oauth_client(provider: CardProvider, app: ASGIApp, base_url: str, redirect_uri: str) -> Any:
    """An authlib client for ``provider``: in process for the simulator, over HTTPS (with
    timeouts) for a real provider."""
    connection: dict[str, Any] = (
        {"transport": httpx2.ASGITransport(app=app), "base_url": base_url}
        if provider.built_in
        else {"timeout": TIMEOUT}
    )
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106  (a method name)
        code_challenge_method="S256",
        scope=SCOPE,
        redirect_uri=redirect_uri,
        **connection,
    )


def discovery_url(provider: CardProvider, base_url: str) -> str:
    """The simulator is asked at this application's own address, whatever its issuer says."""
    if provider.built_in:
        return base_url.rstrip("/") + SIMULATOR_PATH + DISCOVERY
    return provider.issuer.rstrip("/") + DISCOVERY


async def discover(client: Any, provider: CardProvider, base_url: str) -> dict[str, Any]:
    metadata = await _get_json(client, discovery_url(provider, base_url))
    if metadata.get("issuer") != provider.issuer:
        raise CardSignInFailed(PROVIDER_FAILED)
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(endpoint), str):
            raise CardSignInFailed(PROVIDER_FAILED)
    return metadata


async def exchange_code(client: Any, metadata: dict[str, Any], code: str, verifier: str) -> str:
    """The ID token the provider gives for ``code`` (the code works once, at the provider)."""
    try:
        token = await client.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
        )
    except (OAuthError, httpx2.HTTPError, ValueError):
        raise CardSignInFailed(TOKEN_REFUSED) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise CardSignInFailed(TOKEN_REFUSED)
    return id_token


async def fetch_jwks(client: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    return await _get_json(client, metadata["jwks_uri"])


def check_id_token(
    id_token: str,
    jwks: dict[str, Any],
    provider: CardProvider,
    nonce: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The claims of an ID token that this provider signed, for us, for this sign-in, now.
    Anything else (another key, issuer or audience, another nonce, expired, issued long ago or
    in the future) is refused."""
    try:
        claims, header = verify_jwt(id_token, jwks)
        options = {
            "iss": {"essential": True, "value": provider.issuer},
            "aud": {"essential": True, "value": provider.client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {"nonce": nonce, "client_id": provider.client_id}
        checked = CodeIDToken(claims, header, options=options, params=params)
        checked.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except (InvalidToken, JoseError):
        raise CardSignInFailed(TOKEN_REFUSED) from None
    _check_issued_recently(claims, now)
    return claims


def _check_issued_recently(claims: dict[str, Any], now: dt.datetime) -> None:
    issued = claims.get("iat")
    if not isinstance(issued, int | float):
        raise CardSignInFailed(TOKEN_REFUSED)
    age = now.timestamp() - issued
    if age > FRESH_FOR.total_seconds() or age < -LEEWAY_SECONDS:
        raise CardSignInFailed(TOKEN_REFUSED)


async def _get_json(client: Any, url: str) -> dict[str, Any]:
    try:
        response = await client.request("GET", url, withhold_token=True)
        response.raise_for_status()
        document = response.json()
    except (httpx2.HTTPError, ValueError):
        raise CardSignInFailed(PROVIDER_FAILED) from None
    if not isinstance(document, dict):
        raise CardSignInFailed(PROVIDER_FAILED)
    return document
