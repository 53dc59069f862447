"""What a card's chip does, simulated: it keeps each private key usable only with its secret (the
4-digit PIN for the user-authentication key, the 6–16 character password for the signature key),
counts wrong tries (the fifth locks that certificate, for good), and signs a challenge.

A key is stored wrapped: AES-256-GCM under a key derived from its secret by scrypt, with the card
number and the certificate's role bound in as associated data. A wrong secret cannot open it, so
the PIN check is the key itself, not a comparison. A 4-digit PIN has only 10,000 values: copied
out of the database the wrapping alone would fall to a patient attacker; what protects a real card
is the chip's lock, and here the lock counter. This is a simulator: its cards prove nothing about
real people.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import secrets
import string
from enum import StrEnum
from typing import NoReturn

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.x509 import Certificate

from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.text import fold_width
from madoguchi.identity.card_simulator.certificates import CertificateRefused
from madoguchi.identity.models.cards import VirtualCard

MAX_TRIES = 5
WRAP_VERSION = "v1"
SCRYPT_COST = 2**14  # about 50 ms and 16 MiB per try
PASSWORD_ALPHABET = string.ascii_uppercase + string.digits
_PIN = re.compile(r"[0-9]{4}")
_PASSWORD = re.compile(r"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{6,16}")


class Secret(StrEnum):
    PIN = "pin"  # the user-authentication certificate's
    PASSWORD = "password"  # noqa: S105  (the signature certificate's)


class WrongSecret(MadoguchiError):
    code = "card-secret-wrong"
    status = 422
    title = N_("The PIN or password is wrong")


class CertificateLocked(MadoguchiError):
    code = "card-locked"
    status = 403
    title = N_("The card is locked")


WRONG = {
    Secret.PIN: N_("The PIN is wrong. Tries left before this card's PIN locks: {remaining}."),
    Secret.PASSWORD: N_(
        "The signature password is wrong. Tries left before it locks: {remaining}."
    ),
}
LOCKED = {
    Secret.PIN: N_(
        "This card's PIN is locked: it was entered wrongly five times. A locked PIN stays "
        "locked; with a real card, your municipality's counter resets it. In the simulator, "
        "get a new virtual card."
    ),
    Secret.PASSWORD: N_(
        "This card's signature password is locked: it was entered wrongly five times. A "
        "locked password stays locked; with a real card, your municipality's counter resets "
        "it. In the simulator, get a new virtual card."
    ),
}


def parse_pin(raw: str, field: str = "pin") -> str:
    pin = fold_width(raw).strip()
    if not _PIN.fullmatch(pin):
        raise InvalidInput("Enter the PIN: 4 digits.", field=field)
    return pin


def parse_password(raw: str, field: str = "password") -> str:
    password = fold_width(raw).strip().upper()
    if not _PASSWORD.fullmatch(password):
        raise InvalidInput(
            "Enter the signature password: 6 to 16 letters (A to Z) and digits, with at least "
            "one of each.",
            field=field,
        )
    return password


def new_pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


def new_password() -> str:
    body = [secrets.choice(PASSWORD_ALPHABET) for _ in range(8)]
    return secrets.choice(string.ascii_uppercase) + "".join(body) + secrets.choice(string.digits)


def wrap_key(key: rsa.RSAPrivateKey, secret: str, label: str) -> str:
    salt, nonce = os.urandom(16), os.urandom(12)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    sealed = AESGCM(_key_from(secret, salt)).encrypt(nonce, der, label.encode())
    return ".".join([WRAP_VERSION, *(_b64(part) for part in (salt, nonce, sealed))])


def open_key(card: VirtualCard, which: Secret, given: str, now: dt.datetime) -> rsa.RSAPrivateKey:
    """The card's key for ``which``, opened with ``given``; a wrong secret counts against the
    card (committed with the request, so a failed try is never forgotten)."""
    if _locked_at(card, which) is not None:
        raise CertificateLocked(LOCKED[which], field=which.value)
    key = _unwrap(_wrapped(card, which), given, f"{card.card_number}/{which.value}")
    if key is None:
        _count_failure(card, which, now)
    _set_failures(card, which, 0)  # the right secret resets the count, as the chip does
    return key


def prove_possession(key: rsa.RSAPrivateKey, certificate: Certificate) -> None:
    """Sign a fresh challenge with the card's key and check it with the certificate's public
    key: the card holds the private half of what its certificate states."""
    challenge = os.urandom(32)
    signature = key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise CertificateRefused("the certificate does not hold an RSA key")
    try:
        public.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise CertificateRefused("the card's key does not match its certificate") from None


def _count_failure(card: VirtualCard, which: Secret, now: dt.datetime) -> NoReturn:
    failures = _failures(card, which) + 1
    _set_failures(card, which, failures)
    if failures >= MAX_TRIES:
        setattr(card, f"{which.value}_locked_at", now)
        raise CertificateLocked(LOCKED[which], field=which.value)
    raise WrongSecret(WRONG[which], field=which.value, remaining=MAX_TRIES - failures)


def _failures(card: VirtualCard, which: Secret) -> int:
    return card.pin_failures if which is Secret.PIN else card.password_failures


def _set_failures(card: VirtualCard, which: Secret, failures: int) -> None:
    setattr(card, f"{which.value}_failures", failures)


def _locked_at(card: VirtualCard, which: Secret) -> dt.datetime | None:
    return card.pin_locked_at if which is Secret.PIN else card.password_locked_at


def _wrapped(card: VirtualCard, which: Secret) -> str:
    return card.authentication_key if which is Secret.PIN else card.signature_key


def _unwrap(wrapped: str, secret: str, label: str) -> rsa.RSAPrivateKey | None:
    version, salt, nonce, sealed = wrapped.split(".")
    if version != WRAP_VERSION:
        raise ValueError("unknown version of a wrapped card key")
    try:
        der = AESGCM(_key_from(secret, _unb64(salt))).decrypt(
            _unb64(nonce), _unb64(sealed), label.encode()
        )
    except InvalidTag:
        return None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("a card key is not an RSA key")
    return key


def _key_from(secret: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_COST, r=8, p=1).derive(secret.encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
