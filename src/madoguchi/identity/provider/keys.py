"""The provider's ID-token signing keys.

A key is made the first time one is needed and kept in ``oidc_signing_keys``: the private half
as PEM sealed with AES-256-GCM under a key derived from the application secret (purpose
``oidc_signing_key``), the public half as a JWK whose ``kid`` is its RFC 7638 thumbprint. The
JOSE work is ``identity.jose_keys``, shared with the card simulator.

Rotation: ``madoguchi oidc keys rotate`` adds a key and makes it the one that signs; the previous
ones stay in the JWKS, so ID tokens they signed still verify, until ``madoguchi oidc keys retire``
removes them from it. RS256 is used because every OpenID relying party must support it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.core.errors import NotFound
from madoguchi.core.i18n import N_
from madoguchi.identity import jose_keys
from madoguchi.identity.models.provider import OidcSigningKey

ALGORITHM = jose_keys.ALGORITHM
SEAL_PURPOSE = "oidc_signing_key"


async def active_key(db: AsyncSession, secret: str, now: dt.datetime) -> rsa.RSAPrivateKey:
    """The key that signs now (made on first use)."""
    row = await db.scalar(
        select(OidcSigningKey)
        .where(OidcSigningKey.activated_at.is_not(None), OidcSigningKey.retired_at.is_(None))
        .order_by(OidcSigningKey.activated_at.desc(), OidcSigningKey.created_at.desc())
        .limit(1)
    )
    if row is None:
        row = await do_rotate(db, secret, now)
    return jose_keys.load_rsa_private_key(
        decrypt_text(row.sealed_private_key, SEAL_PURPOSE, secret)
    )


async def published_keys(db: AsyncSession) -> dict[str, Any]:
    """The JWK Set at /oidc/jwks: every key not retired (the active one and its predecessors)."""
    rows = await db.scalars(
        select(OidcSigningKey)
        .where(OidcSigningKey.retired_at.is_(None))
        .order_by(OidcSigningKey.created_at.desc())
    )
    return {"keys": [dict(row.public_jwk) for row in rows]}


async def list_keys(db: AsyncSession) -> list[OidcSigningKey]:
    rows = await db.scalars(select(OidcSigningKey).order_by(OidcSigningKey.created_at))
    return list(rows)


async def do_rotate(db: AsyncSession, secret: str, now: dt.datetime) -> OidcSigningKey:
    """Make a new key and let it sign from now on; the others stay published."""
    key = jose_keys.generate_rsa_key()
    row = OidcSigningKey(
        kid=jose_keys.key_id(key),
        alg=ALGORITHM,
        public_jwk=jose_keys.public_jwk(key),
        sealed_private_key=encrypt_text(jose_keys.private_key_pem(key), SEAL_PURPOSE, secret),
        created_at=now,
        activated_at=now,
    )
    db.add(row)
    await db.flush()
    return row


async def do_retire(db: AsyncSession, kid: str, now: dt.datetime) -> OidcSigningKey:
    """Stop publishing a key: tokens it signed no longer verify. If it was the signing key, the
    newest remaining one signs (or a new one is made when none is left)."""
    row = await db.get(OidcSigningKey, kid)
    if row is None:
        raise NotFound(N_("There is no signing key {kid}."), field="kid", kid=kid)
    row.retired_at = row.retired_at or now
    return row


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    """A JWT signed RS256 by ``key``, its header naming the key's kid."""
    return jose_keys.sign_jwt(claims, key)
