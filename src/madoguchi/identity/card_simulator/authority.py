"""The simulator's own key: the RSA-2048 key its ID tokens are signed with, kept in the database.

Card certificates are not the simulator's to sign: the platform PKI's residents' authority
issues them (``signatures.service.issue_resident_certificate``), as the J-LIS authority issues
real ones. What is left here is the OpenID provider's token key, made on first use and sealed
with ``core.crypto`` under the application secret, so a copy of the database alone cannot open
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.core.settings import Settings
from madoguchi.identity.jose_keys import generate_rsa_key, load_rsa_private_key, private_key_pem
from madoguchi.identity.models.cards import CardAuthority

NAME = "simulator"
CACHE_SIZE = 8  # authorities opened in this process (tests make one per database)
TOKEN_PURPOSE = "card_simulator.token_key"  # noqa: S105  (a key label, not a key)


@dataclass(frozen=True)
class Authority:
    token_key: rsa.RSAPrivateKey  # signs the ID tokens


# Opening the key (decrypting, loading and checking an RSA key) takes a noticeable part of a
# second: each process keeps what it opened, keyed by the sealed key and the secret.
_opened: dict[tuple[str, str], Authority] = {}


async def load_authority(db: AsyncSession, settings: Settings) -> Authority:
    """The token key, made and stored the first time it is asked for. Two processes making it
    at once both insert "if absent", and both then read the one that was kept."""
    secret = settings.resolved_secret_key()
    row = await db.get(CardAuthority, NAME)
    if row is None:
        await db.execute(_insert_if_absent(db, _new_row(secret)))
        row = await db.get_one(CardAuthority, NAME)
    cache_key = (row.sealed_token_key, secret)
    if cache_key not in _opened:
        if len(_opened) >= CACHE_SIZE:
            _opened.clear()
        key = load_rsa_private_key(decrypt_text(row.sealed_token_key, TOKEN_PURPOSE, secret))
        _opened[cache_key] = Authority(token_key=key)
    return _opened[cache_key]


def _new_row(secret: str) -> dict[str, Any]:
    token_key = generate_rsa_key()
    return {
        "name": NAME,
        "sealed_token_key": encrypt_text(private_key_pem(token_key), TOKEN_PURPOSE, secret),
    }


def _insert_if_absent(db: AsyncSession, values: dict[str, Any]) -> Any:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(CardAuthority).values(**values).on_conflict_do_nothing()
