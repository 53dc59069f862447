"""RSA keys as JSON Web Keys, and RS256 JSON Web Tokens signed and verified with them.

A general helper for any OpenID provider or relying party in madoguchi (the card simulator,
madoguchi's own provider). It uses joserfc, authlib's successor for JOSE (``authlib.jose`` is
deprecated). A key's id is its RFC 7638 thumbprint, so the same key always has the same id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


class InvalidToken(ValueError):
    """The token is malformed, or its signature does not match any key it could be checked
    with. The message never repeats the token."""


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_rsa_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the key is not an RSA private key")
    return key


def key_id(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    return RSAKey.import_key(key).thumbprint()


def public_jwk(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> dict[str, Any]:
    """The public half, with its id, use and algorithm, as a JWKS lists it."""
    imported = RSAKey.import_key(key)
    return dict(
        imported.as_dict(private=False, kid=imported.thumbprint(), use="sig", alg=ALGORITHM)
    )


def public_jwks(keys: Iterable[rsa.RSAPrivateKey | rsa.RSAPublicKey]) -> dict[str, Any]:
    """A JWK Set document (what a provider serves at its ``jwks_uri``)."""
    return {"keys": [public_jwk(key) for key in keys]}


def sign_jwt(claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    header = {"alg": ALGORITHM, "kid": key_id(key), "typ": "JWT"}
    return jwt.encode(header, claims, RSAKey.import_key(key), algorithms=[ALGORITHM])


def verify_jwt(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The claims and header of a token whose RS256 signature matches a key of ``jwks``.
    The claims themselves are not checked here: the caller knows what it expects."""
    try:
        key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jwt.decode(token, key_set, algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidToken(f"the token cannot be verified ({type(error).__name__})") from None
    return dict(decoded.claims), dict(decoded.header)
