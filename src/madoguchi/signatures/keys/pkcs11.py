"""PKCS#11 keys: RSA-2048 pairs made on a token (an HSM; SoftHSM2 in tests) and used there.

The handle is ``pkcs11:`` and the hex of the pair's CKA_ID, 16 random bytes given at generation;
CKA_LABEL says what the key is for, for people reading the token. The private key is made on the
token as sensitive and never extractable, so its value can never be read, by us or anyone; the
token signs with CKM_SHA256_RSA_PKCS (it hashes the data itself).

Why every operation opens, logs in and closes its own session, one at a time per module:

- python-pkcs11 initialises a module with ``C_Initialize(NULL)``, which in PKCS#11 promises that
  the application never calls the module from two threads at once (SoftHSM then switches its own
  locks off). Signing is called from worker threads of an async server, so one lock per module
  serialises every call into it.
- A login belongs to the whole process, not to a session: while one session is logged in, a
  second login is refused unchecked (so a wrong PIN would pass unnoticed), and closing any session
  logs every session out. A session per operation, under the lock, checks the PIN every time and
  leaves nothing logged in between operations. It costs one login (about a millisecond on
  SoftHSM); a token that is slow to log in to wants more processes, not shared sessions.

The library itself (``pkcs11.lib``) is loaded once per module path per process. A PIN the token
refused is not tried again by this process: each wrong try counts towards locking the token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass

from madoguchi.core.errors import ServiceUnavailable
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import UnknownKey

if TYPE_CHECKING:
    import pkcs11._pkcs11

log = logging.getLogger(__name__)

PREFIX = "pkcs11"
KEY_BITS = 2048
ID_BYTES = 16
_HANDLE = re.compile(rf"{PREFIX}:((?:[0-9a-f]{{2}}){{1,64}})")

# The private key may sign and nothing else; the token keeps it and never lets it out.
_PRIVATE_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_PUBLIC_TEMPLATE = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True}


class SigningTokenUnavailable(ServiceUnavailable):
    """The PKCS#11 module or token cannot be used: it says which, and never shows the PIN."""

    code = "signing-token-unavailable"
    title = N_("Signing is unavailable")
    public_message = N_(
        "The platform's signing device cannot be used just now, so nothing could be signed or "
        "sealed. Please try again later."
    )


@dataclass(frozen=True)
class _Module:
    library: pkcs11._pkcs11.lib
    lock: threading.Lock


_modules: dict[str, _Module] = {}
_modules_lock = threading.Lock()
_refused_pins: set[tuple[str, str, str]] = set()


def _module(path: str) -> _Module:
    """The loaded library for ``path``: loading it is costly, and a process may hold one only."""
    with _modules_lock:
        if path not in _modules:
            try:
                _modules[path] = _Module(pkcs11.lib(path), threading.Lock())
            except pkcs11.PKCS11Error as error:
                raise _unavailable(
                    N_("The PKCS#11 module {module} cannot be loaded (MADOGUCHI_PKCS11_MODULE)."),
                    error,
                    module=path,
                ) from error
        return _modules[path]


def _unavailable(message: str, error: Exception, **params: str) -> SigningTokenUnavailable:
    problem = SigningTokenUnavailable(message, **params)
    log.error("%s (%s)", problem, type(error).__name__)
    return problem


_PIN_REFUSED = (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange)
_PIN_REFUSED_MESSAGE = N_("The PKCS#11 token {token} refused the PIN (MADOGUCHI_PKCS11_PIN).")

# What a token's refusal means; anything else is named by its class.
_REFUSALS: tuple[
    tuple[type[pkcs11.PKCS11Error] | tuple[type[pkcs11.PKCS11Error], ...], str], ...
] = (
    (pkcs11.NoSuchToken, N_("No PKCS#11 token labelled {token} is present in {module}.")),
    (pkcs11.MultipleTokensReturned, N_("More than one PKCS#11 token is labelled {token}.")),
    (pkcs11.PinLocked, N_("The PIN of the PKCS#11 token {token} is locked.")),
    (pkcs11.PinExpired, N_("The PIN of the PKCS#11 token {token} has expired.")),
    (
        pkcs11.UserPinNotInitialized,
        N_("The PKCS#11 token {token} has no user PIN: initialise the token first."),
    ),
    (_PIN_REFUSED, _PIN_REFUSED_MESSAGE),
)


@dataclass(frozen=True)
class _Token:
    """Where the keys are: a module, a token's label and its user PIN (never shown)."""

    module: str
    label: str
    pin: str = field(repr=False)

    @contextmanager
    def session(self, *, rw: bool = False) -> Iterator[pkcs11.Session]:
        """A session logged in for one operation, alone in the module while it lasts."""
        module = _module(self.module)
        with module.lock, self._translated_errors():
            self._refuse_a_refused_pin()
            token = module.library.get_token(token_label=self.label)
            with token.open(rw=rw, user_pin=self.pin) as session:
                yield session

    def _pin_key(self) -> tuple[str, str, str]:
        return (self.module, self.label, hashlib.sha256(self.pin.encode()).hexdigest())

    def _refuse_a_refused_pin(self) -> None:
        if self._pin_key() in _refused_pins:
            raise SigningTokenUnavailable(_PIN_REFUSED_MESSAGE, token=self.label)

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except pkcs11.PKCS11Error as error:
            if isinstance(error, _PIN_REFUSED):
                _refused_pins.add(self._pin_key())
            raise self._explained(error) from error

    def _explained(self, error: pkcs11.PKCS11Error) -> SigningTokenUnavailable:
        for kinds, message in _REFUSALS:
            if isinstance(error, kinds):
                return _unavailable(message, error, token=self.label, module=self.module)
        return _unavailable(
            N_("The PKCS#11 token {token} failed: {reason}."),
            error,
            token=self.label,
            reason=type(error).__name__,
        )


@dataclass(frozen=True)
class Pkcs11Key:
    """A private key on a token, named by its CKA_ID; each signature is made by the token."""

    handle: str
    _token: _Token
    _key_id: bytes
    _public: rsa.RSAPublicKey

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        with self._token.session() as session:
            private = _signing_key(session, self._key_id, self.handle)
            return private.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)


class Pkcs11Keys:
    prefix = PREFIX

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        self._token = _Token(module, token_label, pin)

    def __repr__(self) -> str:
        return f"Pkcs11Keys(module={self._token.module!r}, token={self._token.label!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> Pkcs11Keys:
        """The backend the settings describe; nothing is loaded until a key is used."""
        for name in ("pkcs11_module", "pkcs11_token_label", "pkcs11_pin"):
            if not getattr(settings, name):
                raise ValueError(f"MADOGUCHI_{name.upper()} must be set to use a PKCS#11 token")
        return cls(settings.pkcs11_module, settings.pkcs11_token_label, settings.pkcs11_pin)

    def generate(self, label: str) -> Pkcs11Key:
        key_id = secrets.token_bytes(ID_BYTES)
        with self._token.session(rw=True) as session:
            public, _private = session.generate_keypair(
                KeyType.RSA,
                KEY_BITS,
                id=key_id,
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template=_PUBLIC_TEMPLATE,
                private_template=_PRIVATE_TEMPLATE,
            )
            public_key = _rsa_public_key(public)
        return Pkcs11Key(f"{PREFIX}:{key_id.hex()}", self._token, key_id, public_key)

    def load(self, handle: str) -> Pkcs11Key:
        key_id = _key_id(handle)
        with self._token.session() as session:
            _signing_key(session, key_id, handle)
            public = _find(session, ObjectClass.PUBLIC_KEY, key_id, handle)
            public_key = _rsa_public_key(public)
        return Pkcs11Key(handle, self._token, key_id, public_key)


def _key_id(handle: str) -> bytes:
    match = _HANDLE.fullmatch(handle)
    if match is None:
        raise UnknownKey("not a PKCS#11 key handle (pkcs11: and the key's id in hex)")
    return bytes.fromhex(match.group(1))


def _signing_key(session: pkcs11.Session, key_id: bytes, handle: str) -> pkcs11.SignMixin:
    private = _find(session, ObjectClass.PRIVATE_KEY, key_id, handle)
    if not isinstance(private, pkcs11.SignMixin):
        raise UnknownKey(f"the private key for {handle} may not sign (its CKA_SIGN is false)")
    return private


def _find(session: pkcs11.Session, kind: ObjectClass, key_id: bytes, handle: str) -> pkcs11.Key:
    """The one key of ``kind`` with this id. The search is read to its end here: one left open
    (as ``Session.get_key`` leaves it on finding two) is closed by the garbage collector later,
    in whichever thread, outside the module's lock."""
    search = {Attribute.CLASS: kind, Attribute.KEY_TYPE: KeyType.RSA, Attribute.ID: key_id}
    found = list(session.get_objects(search))
    what = kind.name.lower().replace("_", " ")
    if not found:
        raise UnknownKey(f"the token has no RSA {what} for {handle}")
    if len(found) > 1:
        raise pkcs11.MultipleObjectsReturned(f"{len(found)} RSA {what}s for {handle}")
    return found[0]  # type: ignore[return-value]  # an object of class *_KEY is a Key


def _rsa_public_key(public: pkcs11.Key) -> rsa.RSAPublicKey:
    modulus = int.from_bytes(public[Attribute.MODULUS], "big")
    exponent = int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big")
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()
