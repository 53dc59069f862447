"""Every private key the platform holds is used through this interface, never read.

A key is named by a *handle*, a short string kept in the database beside its certificate. The
handle's prefix says which backend holds the key:

- ``soft:`` the key itself, PKCS#8, sealed with ``core.crypto`` under the application secret
  (AES-256-GCM, purpose ``signatures.key``): a copy of the database alone opens nothing;
- ``pkcs11:`` a label on a PKCS#11 token (SoftHSM2 in tests, a hardware security module in
  production): the key never leaves the token.

New keys are made by the backend the settings name (``signing_keys``); a key made earlier by the
other backend keeps working, so a platform can move to an HSM without re-issuing everything.
Every key is RSA-2048 and signs with PKCS#1 v1.5 over SHA-256 (as JPKI does).
"""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from madoguchi.core.settings import Settings


class SigningKey(Protocol):
    """A private key that can sign but is never shown."""

    @property
    def handle(self) -> str:
        """What to store to find this key again."""
        ...

    def public_key(self) -> rsa.RSAPublicKey: ...

    def sign(self, data: bytes) -> bytes:
        """The RSA PKCS#1 v1.5 signature of SHA-256(``data``)."""
        ...


class KeyBackend(Protocol):
    prefix: str

    def generate(self, label: str) -> SigningKey:
        """A new RSA-2048 key; ``label`` says what it is for (for people reading the token)."""
        ...

    def load(self, handle: str) -> SigningKey: ...


class UnknownKey(LookupError):
    """A handle no backend knows, or whose key is not on the token."""


def _backends(settings: Settings) -> dict[str, KeyBackend]:
    from madoguchi.signatures.keys.software import SoftwareKeys

    backends: dict[str, KeyBackend] = {"soft": SoftwareKeys(settings.resolved_secret_key())}
    if settings.pkcs11_module or settings.signing_keys == "pkcs11":
        from madoguchi.signatures.keys.pkcs11 import Pkcs11Keys  # raises naming what is missing

        backends["pkcs11"] = Pkcs11Keys.from_settings(settings)
    return backends


def generate_key(settings: Settings, label: str) -> SigningKey:
    """A new key, made by the backend the settings choose."""
    return _backends(settings)[settings.signing_keys].generate(label)


def load_key(settings: Settings, handle: str) -> SigningKey:
    prefix = handle.split(":", 1)[0]
    backend = _backends(settings).get(prefix)
    if backend is None:
        raise UnknownKey(f"no key backend for handles beginning {prefix!r}")
    return backend.load(handle)
