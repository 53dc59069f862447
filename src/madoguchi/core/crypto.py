"""Field encryption: AES-256-GCM with a key derived from the application secret, one per purpose.

A token is base64url (no padding) of: one version byte, a 12-byte random nonce, and the ciphertext
with its 16-byte tag. The version byte names how the key was made, so keys can be rotated later
without guessing. Keys come from the secret by HKDF-SHA256 with a purpose label ("my_number", …):
a token made for one purpose cannot be opened as another, and the version byte and purpose are
also bound into the tag as associated data.

A My Number is not sealed here: ``core.my_number_keys`` seals it under a key ring kept outside
the application secret (key ids, rotation) and reads it back only with an audit record. These two
functions refuse the purpose ``my_number`` (``RESERVED_PURPOSES``), so they cannot open one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_SALT = b"madoguchi field encryption"
_PURPOSE = re.compile(r"[a-z][a-z0-9_.:-]{0,62}")
RESERVED_PURPOSES = frozenset({"my_number"})  # sealed and opened only by core.my_number_keys


class DecryptionError(ValueError):
    """The token cannot be opened: it was altered, or the secret or purpose is not the one used.

    The message never contains the token or any part of the plaintext.
    """


def encrypt_text(plaintext: str, purpose: str, secret: str) -> str:
    """A new token for ``plaintext``; the same text gives a different token every time."""
    _refuse_reserved(purpose)
    nonce = os.urandom(NONCE_BYTES)
    header = bytes([VERSION])
    sealed = _cipher(purpose, secret).encrypt(nonce, plaintext.encode(), _aad(header, purpose))
    return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode("ascii")


def decrypt_text(token: str, purpose: str, secret: str) -> str:
    """The plaintext of a token made by ``encrypt_text`` with the same purpose and secret."""
    _refuse_reserved(purpose)
    raw = _decode(token)
    if len(raw) < 1 + NONCE_BYTES + TAG_BYTES or raw[0] != VERSION:
        raise DecryptionError("the token is malformed or of an unknown version")
    header, nonce, sealed = raw[:1], raw[1 : 1 + NONCE_BYTES], raw[1 + NONCE_BYTES :]
    try:
        plain = _cipher(purpose, secret).decrypt(nonce, sealed, _aad(header, purpose))
    except InvalidTag:
        raise DecryptionError(
            "the token cannot be decrypted: it was altered, or the key or purpose is wrong"
        ) from None
    return plain.decode()


def derive_key(purpose: str, secret: str) -> bytes:
    """The 32-byte key for one purpose (HKDF-SHA256 over the application secret)."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError("a purpose is a short lower-case label, such as 'my_number'")
    if not secret:
        raise ValueError("an empty secret cannot protect anything")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=f"madoguchi/v{VERSION}/{purpose}".encode(),
    )
    return hkdf.derive(secret.encode())


def _refuse_reserved(purpose: str) -> None:
    if purpose in RESERVED_PURPOSES:
        raise ValueError(f"the purpose {purpose!r} is sealed only by its own module")


def _cipher(purpose: str, secret: str) -> AESGCM:
    return AESGCM(derive_key(purpose, secret))


def _aad(header: bytes, purpose: str) -> bytes:
    return header + purpose.encode()


def _decode(token: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("the token is not base64url text") from None
