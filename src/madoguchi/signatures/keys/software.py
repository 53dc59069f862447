"""Software keys: RSA-2048, kept as sealed PKCS#8 in their handle.

The handle is ``soft:`` and a ``core.crypto`` token: AES-256-GCM under a key derived from the
application secret for the purpose ``signatures.key``. Opening a key (decrypting, parsing and
checking RSA parameters) costs milliseconds, so opened keys are kept per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.signatures.keys import UnknownKey

PREFIX = "soft"
PURPOSE = "signatures.key"
KEY_BITS = 2048


@dataclass(frozen=True)
class SoftwareKey:
    handle: str
    _key: rsa.RSAPrivateKey

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class SoftwareKeys:
    prefix = PREFIX

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def generate(self, label: str) -> SoftwareKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return SoftwareKey(f"{PREFIX}:{encrypt_text(pem, PURPOSE, self._secret)}", key)

    def load(self, handle: str) -> SoftwareKey:
        return _open(handle, self._secret)


@lru_cache(maxsize=256)
def _open(handle: str, secret: str) -> SoftwareKey:
    prefix, _, token = handle.partition(":")
    if prefix != PREFIX or not token:
        raise UnknownKey("not a software key handle")
    pem = decrypt_text(token, PURPOSE, secret).encode("ascii")
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnknownKey("a software key handle holds a key that is not RSA")
    return SoftwareKey(handle, key)
