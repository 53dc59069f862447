"""The simulator's certificate authority and its ID-token key, kept in the database.

Made on first use: an RSA-2048 root certificate authority (self-signed, SHA-256) and a separate
RSA-2048 key for signing ID tokens. Both private keys are sealed with ``core.crypto`` under the
application secret, each with its own purpose, so a copy of the database alone opens neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.identity.card_simulator.certificates import new_root
from madoguchi.identity.jose_keys import generate_rsa_key, load_rsa_private_key, private_key_pem
from madoguchi.identity.models.cards import CardAuthority

NAME = "simulator"
ROOT_PURPOSE = "card_simulator.root_key"
CACHE_SIZE = 8  # authorities opened in this process (tests make one per database)
TOKEN_PURPOSE = "card_simulator.token_key"  # noqa: S105  (a key label, not a key)


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    token_key: rsa.RSAPrivateKey


# Opening the keys (decrypting, loading and checking two RSA keys) takes a noticeable part of a
# second: each process keeps what it opened, keyed by the sealed keys and the secret.
_opened: dict[tuple[str, str, str], Authority] = {}


async def load_authority(db: AsyncSession, secret: str) -> Authority:
    """The authority, made and stored the first time it is asked for. Two processes making it
    at once both insert "if absent", and both then read the one that was kept."""
    row = await db.get(CardAuthority, NAME)
    if row is None:
        await db.execute(_insert_if_absent(db, _new_row(secret)))
        row = await db.get_one(CardAuthority, NAME)
    cache_key = (row.sealed_key, row.sealed_token_key, secret)
    if cache_key not in _opened:
        if len(_opened) >= CACHE_SIZE:
            _opened.clear()
        _opened[cache_key] = _open(row, secret)
    return _opened[cache_key]


def _open(row: CardAuthority, secret: str) -> Authority:
    return Authority(
        certificate=x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii")),
        key=load_rsa_private_key(decrypt_text(row.sealed_key, ROOT_PURPOSE, secret)),
        token_key=load_rsa_private_key(decrypt_text(row.sealed_token_key, TOKEN_PURPOSE, secret)),
    )


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _new_row(secret: str) -> dict[str, Any]:
    key, token_key = generate_rsa_key(), generate_rsa_key()
    root = new_root(key, dt.datetime.now(dt.UTC))
    return {
        "name": NAME,
        "certificate_pem": certificate_pem(root),
        "sealed_key": encrypt_text(private_key_pem(key), ROOT_PURPOSE, secret),
        "sealed_token_key": encrypt_text(private_key_pem(token_key), TOKEN_PURPOSE, secret),
    }


def _insert_if_absent(db: AsyncSession, values: dict[str, Any]) -> Any:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(CardAuthority).values(**values).on_conflict_do_nothing()
