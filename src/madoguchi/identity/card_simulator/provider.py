"""The simulator as an OpenID Connect provider: its metadata, authorization requests, one-time
codes and the token endpoint, which answers with an RS256 ID token.

It has one client: madoguchi itself (``card_client_id`` and its secret), whose one redirect URI is
``/sign-in/card/callback`` on the same site. Codes live two minutes, are kept as SHA-256 hashes,
and are exchanged once, with the PKCE verifier (S256 only) and the same redirect URI. The ID
token's ``sub`` is the card holder's random subject; the four attributes are in it only when the
scope asked for them and the holder gave the signature password.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote_plus, urlencode

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import CALLBACK_PATH, SIMULATOR_PATH, simulator_issuer
from madoguchi.identity.card_simulator.authority import Authority
from madoguchi.identity.jose_keys import ALGORITHM, public_jwks, sign_jwt
from madoguchi.identity.models.cards import CardAuthorizationCode, CardSignatureCode, VirtualCard

Grant = TypeVar("Grant", CardAuthorizationCode, CardSignatureCode)

ATTRIBUTE_SCOPES = ("name", "address", "birthdate", "gender")
SUPPORTED_SCOPES = ("openid", *ATTRIBUTE_SCOPES, "sign")
CODE_LIFETIME = dt.timedelta(minutes=2)
ID_TOKEN_LIFETIME = dt.timedelta(minutes=10)
GENDERS = {"1": "male", "2": "female"}  # ISO/IEC 5218 to OpenID's gender; else "other"


class AuthorizationError(Exception):
    """A refused authorization request. With ``back_to`` the error goes back to the client
    (RFC 6749 §4.1.2.1); without it (an unknown client or redirect URI) it is shown here."""

    def __init__(self, error: str, description: str, back_to: AuthorizationRequest | None):
        super().__init__(description)
        self.error, self.description, self.back_to = error, description, back_to


class TokenError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str
    nonce: str
    code_challenge: str

    @property
    def wants_attributes(self) -> bool:
        return any(scope in ATTRIBUTE_SCOPES for scope in self.scope)

    def as_fields(self) -> dict[str, str]:
        """What the sign-in form carries back (everything is checked again on the way in)."""
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scope),
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }

    def answer(self, **params: str) -> str:
        """The client's redirect URI with ``params`` and the state."""
        return f"{self.redirect_uri}?{urlencode({**params, 'state': self.state})}"


def metadata(settings: Settings, base_url: str) -> dict[str, Any]:
    """The discovery document: the issuer is fixed; the endpoints are at this site's address."""
    here = base_url.rstrip("/") + SIMULATOR_PATH
    return {
        "issuer": simulator_issuer(settings),
        "authorization_endpoint": f"{here}/authorize",
        "token_endpoint": f"{here}/token",
        "jwks_uri": f"{here}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", *ATTRIBUTE_SCOPES],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }


def jwks(authority: Authority) -> dict[str, Any]:
    return public_jwks([authority.token_key])


def parse_authorization_request(
    params: Mapping[str, str], settings: Settings, base_url: str
) -> AuthorizationRequest:
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != settings.card_client_id:
        raise AuthorizationError("unauthorized_client", "unknown client", None)
    if redirect_uri != base_url.rstrip("/") + CALLBACK_PATH:
        raise AuthorizationError("invalid_request", "unregistered redirect_uri", None)
    request = AuthorizationRequest(
        client_id=params["client_id"],
        redirect_uri=redirect_uri,
        scope=tuple(params.get("scope", "").split()),
        state=params.get("state", ""),
        nonce=params.get("nonce", ""),
        code_challenge=params.get("code_challenge", ""),
    )
    _check_request(request, params)
    return request


def _check_request(request: AuthorizationRequest, params: Mapping[str, str]) -> None:
    if params.get("response_type") != "code":
        raise AuthorizationError("unsupported_response_type", "only code", request)
    if "openid" not in request.scope or set(request.scope) - set(SUPPORTED_SCOPES):
        raise AuthorizationError("invalid_scope", "openid and supported scopes only", request)
    if (
        params.get("code_challenge_method") != "S256"
        or not 43 <= len(request.code_challenge) <= 128
    ):
        raise AuthorizationError("invalid_request", "PKCE with S256 is required", request)
    if not request.nonce or len(request.nonce) > 200 or len(request.state) > 500:
        raise AuthorizationError("invalid_request", "a nonce is required", request)


async def create_code(
    db: AsyncSession,
    card: VirtualCard,
    request: AuthorizationRequest,
    attributes_verified: bool,
    now: dt.datetime,
) -> str:
    code = secrets.token_urlsafe(32)
    db.add(
        CardAuthorizationCode(
            code_hash=code_hash(code),
            card_id=card.id,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scope),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            attributes_verified=attributes_verified,
            authenticated_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await db.flush()
    return code


def authenticate_client(
    authorization: str | None, form: Mapping[str, str], settings: Settings
) -> str:
    """The client id, if the client proved it with its secret (HTTP Basic, or in the form)."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if authorization and authorization.lower().startswith("basic "):
        client_id, secret = _basic(authorization)
    expected = settings.resolved_card_client_secret().encode()
    if client_id != settings.card_client_id or not hmac.compare_digest(secret.encode(), expected):
        raise TokenError("invalid_client", "client authentication failed", 401)
    return client_id


async def exchange_code(
    db: AsyncSession,
    form: Mapping[str, str],
    client_id: str,
    authority: Authority,
    settings: Settings,
    now: dt.datetime,
) -> dict[str, Any]:
    if form.get("grant_type") != "authorization_code":
        raise TokenError("unsupported_grant_type", "only authorization_code")
    grant = await spend_code(db, CardAuthorizationCode, form.get("code", ""), now)
    _check_grant(grant, form, client_id)
    card = await db.get_one(VirtualCard, grant.card_id)
    id_token = sign_jwt(_id_token_claims(grant, card, settings, now), authority.token_key)
    return {
        "access_token": secrets.token_urlsafe(32),  # no userinfo endpoint: nothing accepts it
        "token_type": "Bearer",
        "expires_in": int(ID_TOKEN_LIFETIME.total_seconds()),
        "scope": grant.scope,
        "id_token": id_token,
    }


async def spend_code(db: AsyncSession, model: type[Grant], code: str, now: dt.datetime) -> Grant:
    """The grant behind a one-time ``code``, marked used in one statement: of two exchanges at
    once, only one succeeds (an ID token's code here, a signature's in ``signing``)."""
    used = await db.execute(
        update(model)
        .where(model.code_hash == code_hash(code), model.used_at.is_(None), model.expires_at > now)
        .values(used_at=now)
    )
    if getattr(used, "rowcount", 0) != 1:
        raise TokenError("invalid_grant", "the code is unknown, expired or already used")
    return await db.get_one(model, code_hash(code))


def check_issued_to(grant: Grant, form: Mapping[str, str], client_id: str) -> None:
    if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
        raise TokenError("invalid_grant", "the code was issued to another client or redirect")


def _check_grant(grant: CardAuthorizationCode, form: Mapping[str, str], client_id: str) -> None:
    check_issued_to(grant, form, client_id)
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    if not hmac.compare_digest(challenge.rstrip(b"=").decode(), grant.code_challenge):
        raise TokenError("invalid_grant", "the PKCE code verifier does not match")


def _id_token_claims(
    grant: CardAuthorizationCode, card: VirtualCard, settings: Settings, now: dt.datetime
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": simulator_issuer(settings),
        "sub": card.subject,
        "aud": grant.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": int(as_utc(grant.authenticated_at).timestamp()),
        "nonce": grant.nonce,
        "amr": ["pin", "hwk"] if not grant.attributes_verified else ["pin", "pwd", "hwk"],
    }
    if grant.attributes_verified:
        attributes = {
            "name": card.name,
            "address": card.address,
            "birthdate": card.birthdate.isoformat(),
            "gender": GENDERS.get(card.sex, "other"),
        }
        claims |= {k: v for k, v in attributes.items() if k in grant.scope.split()}
    return claims


def _basic(authorization: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except ValueError:
        raise TokenError("invalid_client", "malformed HTTP Basic credentials", 401) from None
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def code_hash(code: str) -> str:
    """What is stored of a one-time code: its SHA-256."""
    return hashlib.sha256(code.encode()).hexdigest()
