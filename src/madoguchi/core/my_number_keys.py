"""My Number keys: encryption under a key ring with key ids, a keyed hash for lookups, and the
one audited way to read a number back.

The key file (``MADOGUCHI_MY_NUMBER_KEY_FILE``; in development, generated once as
``<data folder>/my_number_keys.json``) is JSON, readable by its owner only (mode 0600)::

    {"format": "madoguchi.my_number_keys/1",
     "active": "k20260401-3fa2",
     "keys": {"k20260401-3fa2": "<base64 of 32 random bytes>", "k20250101-0c1d": "…"},
     "lookup_key": "<base64 of 32 random bytes>"}

New numbers are sealed under ``active``; every key still listed opens what it sealed, so rotation
(``madoguchi my-number rotate-key``, then ``reencrypt``) never makes a stored number unreadable.
The lookup key is never rotated: the keyed hashes stored beside each number must stay comparable.

A sealed number is base64url (no padding) of: the version byte 2, the key id's length and the key
id (ASCII), a 12-byte nonce, and the AES-256-GCM ciphertext with its tag; the header and the label
``my_number`` are bound into the tag. Version 1 tokens (``core.crypto`` under the application
secret, before key rings) are read only by ``reseal``, which ``reencrypt`` uses to move them over.

Nothing outside this module decrypts: ``_unseal`` is private, and the public ways to use it are
``reveal``, which returns a number only after its caller's audit record was written, and
``reseal``, which never lets the number out. tests/core/test_my_number_keys.py checks that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum.jp import in_

from madoguchi.core.crypto import NONCE_BYTES, TAG_BYTES, DecryptionError, derive_key
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings

KEY_FILE_FORMAT = "madoguchi.my_number_keys/1"
DEVELOPMENT_KEY_FILE = "my_number_keys.json"
VERSION = 2
LEGACY_VERSION = 1
KEY_BYTES = 32
_LABEL = b"my_number"
_KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_DIGITS = re.compile(r"[0-9]{12}")
# Twelve digits standing alone (ASCII or full width, with none before or after).
_TWELVE = re.compile(r"(?<![0-9０-９])[0-9０-９]{12}(?![0-9０-９])")
_HALF_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


class MyNumberPurpose(StrEnum):
    """Why a My Number is read: the uses the My Number Act (Article 9) allows."""

    SOCIAL_SECURITY = "social_security"
    TAX = "tax"
    DISASTER_RESPONSE = "disaster_response"

    @property
    def label(self) -> str:
        return _PURPOSE_LABELS[self]


_PURPOSE_LABELS = {
    MyNumberPurpose.SOCIAL_SECURITY: N_("Social security (pensions, health insurance, welfare)"),
    MyNumberPurpose.TAX: N_("Tax"),
    MyNumberPurpose.DISASTER_RESPONSE: N_("Disaster response"),
}


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable, too widely readable or malformed.

    The message names the file and the problem, never a key.
    """


class KeyRing:
    """The keys of one key file. Key material never appears in ``repr`` or messages."""

    __slots__ = ("_keys", "_lookup_key", "active")

    def __init__(self, active: str, keys: Mapping[str, bytes], lookup_key: bytes) -> None:
        if active not in keys:
            raise KeyFileError(f"the active key {active!r} is not among the keys")
        self.active = active
        self._keys = dict(keys)
        self._lookup_key = lookup_key

    def __repr__(self) -> str:
        return f"KeyRing(active={self.active!r}, key_ids={self.key_ids!r})"

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def seal(self, digits: str) -> dict[str, str]:
        """``{"encrypted": token, "lookup": keyed hash, "last4": "1234"}`` for 12 digits."""
        _check_digits(digits)
        return {
            "encrypted": _seal_token(self, digits),
            "lookup": self.lookup(digits),
            "last4": digits[-4:],
        }

    def lookup(self, digits: str) -> str:
        """The keyed hash (HMAC-SHA256 under the lookup key) that finds a number by equality."""
        _check_digits(digits)
        return hmac.new(
            self._lookup_key, _LABEL + b":" + digits.encode(), hashlib.sha256
        ).hexdigest()


def is_my_number(digits: str) -> bool:
    """Twelve digits (ASCII or full width) whose last is the My Number check digit."""
    return bool(_TWELVE.fullmatch(digits)) and in_.is_valid(digits.translate(_HALF_WIDTH))


def mask_my_numbers(text: str) -> str:
    """``text`` with every valid My Number standing in it masked to its last four digits."""
    if not any(ch.isdigit() for ch in text):
        return text
    return _TWELVE.sub(_masked_match, text)


def _masked_match(match: re.Match[str]) -> str:
    digits = match.group()
    return f"●●●●●●●●{digits[-4:]}" if is_my_number(digits) else digits


# --- Sealing and opening ------------------------------------------------------------------------


def _seal_token(keys: KeyRing, digits: str) -> str:
    header = _header(keys.active)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keys._keys[keys.active]).encrypt(nonce, digits.encode(), header + _LABEL)
    return base64.urlsafe_b64encode(header + nonce + sealed).rstrip(b"=").decode("ascii")


def key_id_of(token: str) -> str | None:
    """The id of the key a token was sealed under; None for a version 1 (legacy) token."""
    raw = _decode(token)
    if raw[:1] == bytes([LEGACY_VERSION]):
        return None
    return _split(raw)[1]


def _unseal(keys: KeyRing, token: str) -> str:
    """The digits of a sealed number. Private: only ``reveal`` and ``reseal`` call it."""
    header, key_id, nonce, sealed = _split(_decode(token))
    key = keys._keys.get(key_id)
    if key is None:
        raise DecryptionError(
            f"the My Number was sealed under key {key_id!r}, which is not in the key file"
        )
    try:
        return AESGCM(key).decrypt(nonce, sealed, header + _LABEL).decode()
    except InvalidTag:
        raise DecryptionError(
            "the My Number cannot be decrypted: it was altered, or the key is not the one used"
        ) from None


def _unseal_legacy(token: str, secret: str) -> str:
    raw = _decode(token)
    header, nonce, sealed = raw[:1], raw[1 : 1 + NONCE_BYTES], raw[1 + NONCE_BYTES :]
    key = derive_key("my_number", secret)
    try:
        return AESGCM(key).decrypt(nonce, sealed, header + _LABEL).decode()
    except InvalidTag:
        raise DecryptionError("the legacy My Number token cannot be decrypted") from None


async def reveal(
    keys: KeyRing,
    token: str,
    *,
    purpose: MyNumberPurpose,
    record: Callable[[MyNumberPurpose], Awaitable[object]],
) -> str:
    """The digits, returned only once ``record(purpose)`` (the caller's audit event) is done.

    A token that cannot be opened raises ``DecryptionError`` and records nothing.
    """
    digits = _unseal(keys, token)
    await record(MyNumberPurpose(purpose))
    return digits


def reseal(keys: KeyRing, token: str, legacy_secret: str | None = None) -> dict[str, str] | None:
    """The number sealed again under the active key, or None when it already is.

    A version 1 token is opened with the application secret it was made with (``legacy_secret``).
    The digits never leave this function.
    """
    if key_id_of(token) == keys.active:
        return None
    if key_id_of(token) is None:
        if not legacy_secret:
            raise DecryptionError("a legacy My Number token needs the application secret")
        return keys.seal(_unseal_legacy(token, legacy_secret))
    return keys.seal(_unseal(keys, token))


def _header(key_id: str) -> bytes:
    return bytes([VERSION, len(key_id)]) + key_id.encode("ascii")


def _split(raw: bytes) -> tuple[bytes, str, bytes, bytes]:
    if len(raw) < 2 or raw[0] != VERSION:
        raise DecryptionError("the My Number token is malformed or of an unknown version")
    end = 2 + raw[1]
    if len(raw) < end + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("the My Number token is too short")
    key_id = raw[2:end].decode("ascii", errors="replace")
    return raw[:end], key_id, raw[end : end + NONCE_BYTES], raw[end + NONCE_BYTES :]


def _decode(token: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("the My Number token is not base64url text") from None
    if not raw:
        raise DecryptionError("the My Number token is empty")
    return raw


def _check_digits(digits: str) -> None:
    if not _DIGITS.fullmatch(digits):
        raise ValueError("a My Number is 12 ASCII digits")


# --- The key file -------------------------------------------------------------------------------


_cache: dict[Path, tuple[tuple[int, int, int], KeyRing]] = {}


def key_file_path(settings: Settings) -> Path:
    """The configured key file; in development without one, the generated file's path."""
    if settings.my_number_key_file is not None:
        return settings.my_number_key_file
    if settings.is_production:
        raise KeyFileError("MADOGUCHI_MY_NUMBER_KEY_FILE must be set in production")
    return settings.data_dir / DEVELOPMENT_KEY_FILE


def key_ring(settings: Settings) -> KeyRing:
    """The key ring of the settings' key file (generated once in development when unset).

    Read again whenever the file changes, so a rotation reaches running processes.
    """
    path = key_file_path(settings)
    if settings.my_number_key_file is None and not path.exists():
        _create_key_file(path)
    try:
        status = path.stat()
    except OSError as error:
        raise KeyFileError(
            f"the My Number key file {path} cannot be read: {error.strerror}"
        ) from None
    version = (status.st_mtime_ns, status.st_size, status.st_ino)
    cached = _cache.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    ring = read_key_file(path)
    _cache[path] = (version, ring)
    return ring


def read_key_file(path: Path) -> KeyRing:
    """The key ring in ``path``; refused unless only its owner can read it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KeyFileError(
            f"the My Number key file {path} cannot be read: {error.strerror}"
        ) from None
    if mode & 0o077:
        raise KeyFileError(
            f"the My Number key file {path} is readable by others (mode {mode:o}): chmod 600 it"
        )
    return parse_key_file(text, path)


def parse_key_file(text: str, where: Path | str = "the key file") -> KeyRing:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise KeyFileError(f"{where} is not JSON (line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(f"{where} is not a key file of format {KEY_FILE_FORMAT}")
    keys = data.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise KeyFileError(f"{where} has no keys")
    ring = {
        _key_id(where, key_id): _key(where, f"key {key_id!r}", value)
        for key_id, value in keys.items()
    }
    active = data.get("active")
    if active not in ring:
        raise KeyFileError(f"{where}: the active key {active!r} is not among its keys")
    return KeyRing(str(active), ring, _key(where, "lookup_key", data.get("lookup_key")))


def _key_id(where: Path | str, key_id: str) -> str:
    if not _KEY_ID.fullmatch(key_id):
        raise KeyFileError(f"{where}: {key_id!r} is not a key id (a-z, 0-9 and -, 32 at most)")
    return key_id


def _key(where: Path | str, name: str, value: Any) -> bytes:
    try:
        key = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{where}: {name} must be base64 of {KEY_BYTES} bytes")
    return key


def new_key_id(taken: list[str] | None = None) -> str:
    """A fresh id such as ``k20260401-3fa2``: the day it was made, and random hex."""
    while True:
        key_id = f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
        if key_id not in (taken or []):
            return key_id


def new_key_file_content() -> dict[str, Any]:
    key_id = new_key_id()
    return {
        "format": KEY_FILE_FORMAT,
        "active": key_id,
        "keys": {key_id: _new_key()},
        "lookup_key": _new_key(),
    }


def rotate_key_file(path: Path) -> str:
    """Add a new key to the file and make it the active one; the id of the new key."""
    read_key_file(path)  # refuses a malformed or too widely readable file before changing it
    data = json.loads(path.read_text(encoding="utf-8"))
    key_id = new_key_id(list(data["keys"]))
    data["keys"][key_id] = _new_key()
    data["active"] = key_id
    write_key_file(path, data)
    return key_id


def write_key_file(path: Path, data: Mapping[str, Any]) -> None:
    """Write atomically (a 0600 temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)


def _create_key_file(path: Path) -> None:
    """Development: make the key file once. It is written whole under another name and linked
    into place, so a process that loses the race reads the winner's complete file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    write_key_file(temporary, new_key_file_content())
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
