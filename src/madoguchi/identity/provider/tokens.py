"""The token endpoint's work, and userinfo.

A code is spent by one atomic ``UPDATE … WHERE used_at IS NULL``: of two requests with the same
code, one wins. A code presented again is refused and everything the first exchange issued is
revoked (RFC 6749 4.1.2: the code was probably stolen). A code also stays spent when the
exchange fails for another reason (wrong verifier, wrong redirect_uri), so a verifier cannot be
guessed by trying.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.identity import audit
from madoguchi.identity.models import Person
from madoguchi.identity.models.provider import OidcAccessToken, OidcAuthorizationCode, OidcClient
from madoguchi.identity.provider import keys
from madoguchi.identity.provider.claims import pairwise_subject, released_claims
from madoguchi.identity.provider.service import get_person, hash_secret

ACCESS_TOKEN_LIFETIME = dt.timedelta(minutes=10)
ID_TOKEN_LIFETIME = dt.timedelta(minutes=5)
PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 4.1


class TokenRefused(Exception):
    """Answered as ``{"error": …, "error_description": …}`` (RFC 6749 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class InvalidAccessToken(Exception):
    """userinfo answers 401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""


@dataclass(frozen=True)
class Provider:
    """What signing needs to know about this deployment."""

    issuer: str
    secret: str


async def do_exchange_code(
    db: AsyncSession,
    provider: Provider,
    client: OidcClient,
    form: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    if form.get("grant_type") != "authorization_code":
        raise TokenRefused("unsupported_grant_type", "only grant_type=authorization_code")
    code_hash = hash_secret(str(form.get("code") or ""))
    code = await _spend_code(db, code_hash, client.client_id, now)
    _check_code(code, client, form, now)
    person = await get_person(db, code.person_id)
    if person is None:
        raise TokenRefused("invalid_grant", "the person's account is disabled")
    return await _issue_tokens(db, provider, client, code, person, now)


async def _spend_code(
    db: AsyncSession, code_hash: str, client_id: str, now: dt.datetime
) -> OidcAuthorizationCode:
    code: OidcAuthorizationCode | None = await db.scalar(
        update(OidcAuthorizationCode)
        .where(OidcAuthorizationCode.code_hash == code_hash)
        .where(OidcAuthorizationCode.used_at.is_(None))
        .values(used_at=now)
        .returning(OidcAuthorizationCode),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    if code is None:
        await _revoke_after_reuse(db, code_hash, client_id, now)
        raise TokenRefused("invalid_grant", "the code is unknown, or was used before")
    return code


async def _revoke_after_reuse(
    db: AsyncSession, code_hash: str, client_id: str, now: dt.datetime
) -> None:
    code = await db.get(OidcAuthorizationCode, code_hash)
    if code is None:
        return
    await db.execute(
        update(OidcAccessToken)
        .where(OidcAccessToken.code_hash == code_hash, OidcAccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await audit.append(
        db,
        actor=f"client:{client_id}",
        action="oidc.code_reused",
        subject=f"person:{code.person_id}",
        details={"client": code.client_id, "presented_by": client_id},
    )


def _check_code(
    code: OidcAuthorizationCode, client: OidcClient, form: Mapping[str, Any], now: dt.datetime
) -> None:
    if as_utc(code.expires_at) <= now:
        raise TokenRefused("invalid_grant", "the code has expired")
    if code.client_id != client.client_id:
        raise TokenRefused("invalid_grant", "the code was issued to another client")
    if form.get("redirect_uri") != code.redirect_uri:
        raise TokenRefused("invalid_grant", "redirect_uri differs from the authorization request")
    verifier = form.get("code_verifier")
    if not isinstance(verifier, str) or not PKCE_VERIFIER.fullmatch(verifier):
        raise TokenRefused("invalid_grant", "a code_verifier (RFC 7636) is required")
    if not secrets.compare_digest(s256(verifier), code.code_challenge):
        raise TokenRefused("invalid_grant", "the code_verifier does not match the code_challenge")


async def _issue_tokens(
    db: AsyncSession,
    provider: Provider,
    client: OidcClient,
    code: OidcAuthorizationCode,
    person: Person,
    now: dt.datetime,
) -> dict[str, Any]:
    access_token = secrets.token_urlsafe(32)
    scopes = code.scope.split()
    db.add(
        OidcAccessToken(
            token_hash=hash_secret(access_token),
            client_id=client.client_id,
            person_id=person.id,
            code_hash=code.code_hash,
            scope=code.scope,
            created_at=now,
            expires_at=now + ACCESS_TOKEN_LIFETIME,
        )
    )
    released = released_claims(person, scopes)
    claims = {
        "iss": provider.issuer,
        "sub": pairwise_subject(client.sector_identifier, person.id, provider.secret),
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": int(as_utc(code.auth_time).timestamp()),
        "acr": code.acr,
        "at_hash": half_hash(access_token),
        **({"nonce": code.nonce} if code.nonce else {}),
        **released,
    }
    key = await keys.active_key(db, provider.secret, now)
    await _audit_release(db, client.client_id, person, "oidc.token_issued", released, code.scope)
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "scope": code.scope,
        "id_token": keys.sign(claims, key),
    }


async def userinfo(
    db: AsyncSession, provider: Provider, access_token: str, now: dt.datetime
) -> dict[str, Any]:
    """The consented claims of the person an access token was issued for."""
    token = await db.scalar(
        select(OidcAccessToken).where(OidcAccessToken.token_hash == hash_secret(access_token))
    )
    if token is None or token.revoked_at is not None or as_utc(token.expires_at) <= now:
        raise InvalidAccessToken("the access token is unknown, revoked or expired")
    client = await db.get(OidcClient, token.client_id)
    person = await get_person(db, token.person_id)
    if client is None or client.disabled_at is not None or person is None:
        raise InvalidAccessToken("the client or the person is disabled")
    released = released_claims(person, token.scope.split())
    await _audit_release(db, client.client_id, person, "oidc.userinfo_read", released, token.scope)
    subject = pairwise_subject(client.sector_identifier, person.id, provider.secret)
    return {"sub": subject, **released}


async def _audit_release(
    db: AsyncSession,
    client_id: str,
    person: Person,
    action: str,
    released: dict[str, Any],
    scope: str,
) -> None:
    """Who received which of a person's attributes: what "who read my data" will show."""
    await audit.append(
        db,
        actor=f"client:{client_id}",
        action=action,
        subject=f"person:{person.id}",
        purpose="oidc",
        details={"client": client_id, "claims": sorted(released), "scope": scope},
    )


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def half_hash(token: str) -> str:
    """``at_hash``: the left half of the SHA-256 of the access token (OpenID Connect Core 3.1)."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")
