"""Registered clients, and how a client proves who it is at the token endpoint.

Only ``private_key_jwt`` (RFC 7523 section 2.2, OpenID Connect Core 9) is accepted: the client
signs a short-lived JWT with a private key whose public half it registered, so no shared secret
exists to leak. An assertion must name the client as ``iss`` and ``sub``, be addressed to the
token endpoint (or the issuer), expire within minutes, and carry a ``jti`` never seen before.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.ids import uuid7
from madoguchi.identity.models.provider import OidcClient, OidcUsedAssertion
from madoguchi.identity.provider.claims import SUPPORTED_SCOPES

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256")
LONGEST_ASSERTION = dt.timedelta(minutes=5)  # an exp further away than this is refused
LEEWAY = dt.timedelta(seconds=30)  # for clocks that differ a little


class ClientAuthenticationFailed(Exception):
    """The token endpoint answers ``invalid_client`` (401) with this description."""


# --- Registration ----------------------------------------------------------------------------


async def do_register_client(
    db: AsyncSession,
    *,
    name_ja: str,
    name_en: str,
    redirect_uris: list[str],
    jwks: Mapping[str, Any],
    sector_identifier: str | None = None,
    scopes: list[str] | None = None,
) -> OidcClient:
    uris = [check_redirect_uri(uri) for uri in redirect_uris]
    if not uris:
        raise InvalidInput(N_("Give at least one redirect URI."), field="redirect_uri")
    client = OidcClient(
        client_id=str(uuid7()),
        name_ja=_required(name_ja, "name_ja"),
        name_en=_required(name_en, "name_en"),
        redirect_uris=uris,
        jwks=check_public_jwks(jwks),
        sector_identifier=sector_identifier or _sector_of(uris),
        allowed_scopes=_check_scopes(scopes or list(SUPPORTED_SCOPES)),
    )
    db.add(client)
    await db.flush()
    return client


async def list_clients(db: AsyncSession) -> list[OidcClient]:
    return list(await db.scalars(select(OidcClient).order_by(OidcClient.created_at)))


async def get_client(db: AsyncSession, client_id: str) -> OidcClient | None:
    """An enabled client, or None."""
    client = await db.get(OidcClient, client_id)
    return client if client is not None and client.disabled_at is None else None


async def do_disable_client(db: AsyncSession, client_id: str, now: dt.datetime) -> OidcClient:
    client = await db.get(OidcClient, client_id)
    if client is None:
        raise NotFound(
            N_("There is no client {client_id}."), field="client_id", client_id=client_id
        )
    client.disabled_at = client.disabled_at or now
    return client


def check_redirect_uri(uri: str) -> str:
    """An absolute https URI without a fragment (http only to this machine, for development)."""
    parts = urlsplit(uri)
    local_http = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not (parts.scheme == "https" or local_http) or not parts.netloc or parts.fragment:
        raise InvalidInput(
            N_("The redirect URI {uri} must be an https address without a #fragment."),
            field="redirect_uri",
            uri=uri,
        )
    return uri


def check_public_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    """A JWK Set of public RSA or EC keys; a private key given by mistake is refused."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise InvalidInput(N_("The JWKS must have a non-empty list of keys."), field="jwks")
    try:
        parsed = KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidInput(N_("The JWKS holds a key that cannot be read."), field="jwks") from None
    if any(key.is_private for key in parsed.keys):
        raise InvalidInput(
            N_("The JWKS holds a private key: register only the public keys."), field="jwks"
        )
    if any(key.key_type not in ("RSA", "EC") for key in parsed.keys):
        raise InvalidInput(N_("Only RSA and EC keys can sign client assertions."), field="jwks")
    return {"keys": [dict(key) for key in keys]}


def _sector_of(uris: list[str]) -> str:
    hosts = {urlsplit(uri).hostname or "" for uri in uris}
    if len(hosts) != 1:
        raise InvalidInput(
            N_("The redirect URIs are on several hosts: name the client's sector."),
            field="sector_identifier",
        )
    return hosts.pop()


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SUPPORTED_SCOPES]
    if unknown:
        raise InvalidInput(N_("Unknown scopes: {scopes}."), field="scope", scopes=" ".join(unknown))
    return sorted(set(scopes) | {"openid"}, key=SUPPORTED_SCOPES.index)


def _required(text: str, field: str) -> str:
    if not text.strip():
        raise InvalidInput(N_("The client needs a name in Japanese and in English."), field=field)
    return text.strip()


# --- Authentication at the token endpoint ----------------------------------------------------


async def authenticate_client(
    db: AsyncSession, form: Mapping[str, Any], audiences: set[str], now: dt.datetime
) -> OidcClient:
    """The client a ``private_key_jwt`` assertion proves, its ``jti`` spent; or
    ``ClientAuthenticationFailed``."""
    if form.get("client_assertion_type") != ASSERTION_TYPE or form.get("client_secret"):
        raise ClientAuthenticationFailed("only private_key_jwt client authentication is accepted")
    assertion = str(form.get("client_assertion") or "")
    client = await _claimed_client(db, assertion, form.get("client_id"))
    claims = _verified_claims(assertion, client)
    expires = _check_claims(claims, client.client_id, audiences, now)
    await _spend_jti(db, client.client_id, str(claims["jti"]), expires, now)
    return client


async def _claimed_client(db: AsyncSession, assertion: str, given: object) -> OidcClient:
    """The client the assertion names (read before its signature can be checked: the key to
    check it with is the named client's)."""
    try:
        claimed = json.loads(extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError):
        raise ClientAuthenticationFailed("the client assertion is not a signed JWT") from None
    client_id = claimed.get("sub") if isinstance(claimed, dict) else None
    if not isinstance(client_id, str) or (given and given != client_id):
        raise ClientAuthenticationFailed("the client assertion does not name the client")
    client = await get_client(db, client_id)
    if client is None:
        raise ClientAuthenticationFailed("the client is unknown or disabled")
    return client


def _verified_claims(assertion: str, client: OidcClient) -> dict[str, Any]:
    try:
        keys = KeySet.import_key_set({"keys": client.jwks["keys"]})
        return dict(jwt.decode(assertion, keys, algorithms=ASSERTION_ALGORITHMS).claims)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ClientAuthenticationFailed(
            "the client assertion is not signed by a key the client registered"
        ) from None


def _check_claims(
    claims: dict[str, Any], client_id: str, audiences: set[str], now: dt.datetime
) -> dt.datetime:
    """The assertion's expiry, after checking who made it, for whom, and how long it lives."""
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise ClientAuthenticationFailed("iss and sub of the client assertion must be the client")
    aud = claims.get("aud")
    named = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
    if not named & audiences:
        raise ClientAuthenticationFailed("the client assertion is not addressed to this endpoint")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise ClientAuthenticationFailed("the client assertion has no expiry")
    expires = dt.datetime.fromtimestamp(exp, dt.UTC)
    if expires + LEEWAY <= now:
        raise ClientAuthenticationFailed("the client assertion has expired")
    if expires > now + LONGEST_ASSERTION + LEEWAY:
        raise ClientAuthenticationFailed("the client assertion lives too long (5 minutes at most)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        raise ClientAuthenticationFailed("the client assertion has no jti")
    return expires + LEEWAY


async def _spend_jti(
    db: AsyncSession, client_id: str, jti: str, expires: dt.datetime, now: dt.datetime
) -> None:
    """Record the ``jti``; one already recorded is a replay. Expired records are dropped."""
    await db.execute(delete(OidcUsedAssertion).where(OidcUsedAssertion.expires_at < now))
    try:
        async with db.begin_nested():
            db.add(OidcUsedAssertion(client_id=client_id, jti=jti, expires_at=expires))
    except IntegrityError:
        raise ClientAuthenticationFailed("the client assertion was used before") from None
