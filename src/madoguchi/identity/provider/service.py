"""The authorization side of the provider: checking a request, consents, and codes.

``check_authorization_request`` sorts failures in two kinds, as RFC 6749 4.1.2.1 asks: an unknown
client or a redirect_uri that is not registered is shown to the person (``UnknownClient``,
``UnregisteredRedirect``: never a redirect, or madoguchi would be an open redirector); anything
else wrong is sent back to the client's redirect_uri as ``AuthorizationRefused``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.identity import audit
from madoguchi.identity.models import Assurance, Person
from madoguchi.identity.models.provider import OidcAccessToken, OidcAuthorizationCode, OidcConsent
from madoguchi.identity.models.provider import OidcClient as OidcClient
from madoguchi.identity.provider.claims import OPENID, acr_for, attribute_scopes
from madoguchi.identity.provider.clients import get_client

CODE_LIFETIME = dt.timedelta(seconds=60)
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
LONGEST_PARAMETER = 500
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "acr_values",
    "prompt",
)


class UnknownClient(MadoguchiError):
    code = "oidc-unknown-client"
    status = 400
    title = N_("This service cannot sign you in with madoguchi")


class UnregisteredRedirect(MadoguchiError):
    code = "oidc-unregistered-redirect"
    status = 400
    title = N_("This service cannot sign you in with madoguchi")


class AuthorizationRefused(Exception):
    """Sent back to the client: ``error`` is an OAuth error code (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    acr_values: str | None
    prompt: str | None

    def as_parameters(self) -> dict[str, str]:
        """The request as query parameters again (to come back to it after signing in)."""
        values = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "acr_values": self.acr_values,
            "prompt": self.prompt,
        }
        return {name: value for name, value in values.items() if value is not None}


# --- The request -----------------------------------------------------------------------------


async def check_client_and_redirect(
    db: AsyncSession, client_id: str | None, redirect_uri: str | None
) -> OidcClient:
    """The client, if it is registered and enabled and the redirect_uri is exactly one of its
    own; otherwise an error shown to the person."""
    client = await get_client(db, client_id) if client_id else None
    if client is None:
        raise UnknownClient(
            N_("The service that sent you here is not registered with madoguchi, or no longer.")
        )
    if redirect_uri not in client.redirect_uris:
        raise UnregisteredRedirect(
            N_("The service that sent you here gave an address madoguchi does not know for it.")
        )
    return client


async def check_authorization_request(
    db: AsyncSession, items: Sequence[tuple[str, str]]
) -> tuple[OidcClient, AuthorizationRequest]:
    params = dict(items)
    client = await check_client_and_redirect(
        db, params.get("client_id"), params.get("redirect_uri")
    )
    repeated = sorted(name for name, count in Counter(n for n, _ in items).items() if count > 1)
    if repeated:
        raise AuthorizationRefused("invalid_request", f"repeated parameters: {repeated}")
    return client, _checked_request(client, params)


def _checked_request(client: OidcClient, params: dict[str, str]) -> AuthorizationRequest:
    if params.get("response_type") != "code":
        raise AuthorizationRefused("unsupported_response_type", "only response_type=code")
    if "request" in params or "request_uri" in params:
        raise AuthorizationRefused("request_not_supported", "request objects are not supported")
    if any(len(params.get(name) or "") > LONGEST_PARAMETER for name in PARAMETERS):
        raise AuthorizationRefused("invalid_request", "a parameter is too long")
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=params["redirect_uri"],
        scopes=_checked_scopes(client, params.get("scope", "")),
        state=params.get("state"),
        nonce=params.get("nonce"),
        code_challenge=_checked_challenge(params),
        acr_values=params.get("acr_values"),
        prompt=params.get("prompt"),
    )


def _checked_scopes(client: OidcClient, scope: str) -> tuple[str, ...]:
    scopes = scope.split()
    if OPENID not in scopes:
        raise AuthorizationRefused("invalid_scope", "the openid scope is required")
    refused = [name for name in scopes if name not in client.allowed_scopes]
    if refused:
        raise AuthorizationRefused("invalid_scope", f"scopes not allowed: {' '.join(refused)}")
    return (OPENID, *attribute_scopes(scopes))


def _checked_challenge(params: dict[str, str]) -> str:
    challenge = params.get("code_challenge")
    if not challenge:
        raise AuthorizationRefused("invalid_request", "PKCE is required (code_challenge, S256)")
    if params.get("code_challenge_method") != "S256":
        raise AuthorizationRefused("invalid_request", "only code_challenge_method=S256")
    if not PKCE_CHALLENGE.fullmatch(challenge):
        raise AuthorizationRefused("invalid_request", "the code_challenge is not an S256 hash")
    return challenge


# --- Consents --------------------------------------------------------------------------------


async def consent_covers(
    db: AsyncSession, person_id: uuid.UUID, client_id: str, scopes: Sequence[str]
) -> bool:
    consent = await db.get(OidcConsent, (person_id, client_id))
    return consent is not None and set(attribute_scopes(list(scopes))) <= set(consent.scopes)


async def list_consents(db: AsyncSession, person_id: uuid.UUID) -> list[OidcConsent]:
    rows = await db.scalars(
        select(OidcConsent)
        .where(OidcConsent.person_id == person_id)
        .order_by(OidcConsent.client_id)
    )
    return list(rows)


async def do_grant_consent(
    db: AsyncSession,
    person_id: uuid.UUID,
    client_id: str,
    scopes: Sequence[str],
    now: dt.datetime,
) -> OidcConsent:
    """Remember what the person allowed (added to what they allowed before)."""
    consent = await db.get(OidcConsent, (person_id, client_id))
    granted = attribute_scopes(list(scopes))
    if consent is None:
        consent = OidcConsent(person_id=person_id, client_id=client_id, scopes=[], granted_at=now)
        db.add(consent)
    consent.scopes = attribute_scopes([*consent.scopes, *granted])
    consent.granted_at = now
    await audit.append(
        db,
        actor=f"person:{person_id}",
        action="oidc.consent_granted",
        subject=f"client:{client_id}",
        details={"client": client_id, "scopes": granted},
    )
    return consent


async def do_withdraw_consent(
    db: AsyncSession, person_id: uuid.UUID, client_id: str, now: dt.datetime
) -> bool:
    """Forget the consent and revoke the client's access tokens for this person."""
    consent = await db.get(OidcConsent, (person_id, client_id))
    if consent is None:
        return False
    withdrawn = list(consent.scopes)
    await db.delete(consent)
    await db.execute(
        update(OidcAccessToken)
        .where(
            OidcAccessToken.person_id == person_id,
            OidcAccessToken.client_id == client_id,
            OidcAccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    await audit.append(
        db,
        actor=f"person:{person_id}",
        action="oidc.consent_withdrawn",
        subject=f"client:{client_id}",
        details={"client": client_id, "scopes": withdrawn},
    )
    return True


# --- Codes -----------------------------------------------------------------------------------


async def do_issue_code(
    db: AsyncSession,
    request: AuthorizationRequest,
    person_id: uuid.UUID,
    assurance: Assurance,
    auth_time: dt.datetime,
    now: dt.datetime,
) -> str:
    """A new authorization code for the request (only its SHA-256 is kept)."""
    code = secrets.token_urlsafe(32)
    db.add(
        OidcAuthorizationCode(
            code_hash=hash_secret(code),
            client_id=request.client_id,
            person_id=person_id,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            acr=acr_for(assurance),
            auth_time=auth_time,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await db.flush()
    return code


async def get_person(db: AsyncSession, person_id: uuid.UUID) -> Person | None:
    person = await db.get(Person, person_id)
    return person if person is not None and person.disabled_at is None else None


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
