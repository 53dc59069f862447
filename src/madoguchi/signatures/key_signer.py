"""pyHanko's ``Signer`` for a platform ``SigningKey``: the one bridge from pyHanko to our keys.

pyHanko builds the CMS structures (signed attributes, SignerInfo, SignedData) and asks its
``Signer`` for one raw signature over the DER of the signed attributes. A ``SigningKey`` gives
exactly that: RSA PKCS#1 v1.5 over SHA-256 of the bytes it is handed, which is what the
``sha256_rsa`` mechanism means. So the adapter only converts certificates (pyHanko speaks
asn1crypto, the platform speaks ``cryptography``) and refuses any other digest, because the key
cannot make one. Detached CMS signatures and PDF sealing both sign through this class.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from asn1crypto import algos  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from madoguchi.signatures.keys import SigningKey

DIGEST = "sha256"
MECHANISM = "sha256_rsa"


@lru_cache(maxsize=64)
def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as pyHanko wants it (the platform's few are converted once)."""
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


class KeySigner(Signer):
    """Signs CMS structures with ``key``, naming ``certificate`` and carrying ``chain``."""

    def __init__(
        self, key: SigningKey, certificate: x509.Certificate, chain: Sequence[x509.Certificate]
    ) -> None:
        if certificate.public_key() != key.public_key():
            raise ValueError("the certificate given to KeySigner is not for its key")
        issuers = [to_asn1(issuer) for issuer in chain]
        store = SimpleCertificateStore.from_certs(issuers)  # type: ignore[no-untyped-call]
        super().__init__(
            signing_cert=to_asn1(certificate),
            cert_registry=store,
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": MECHANISM}),
        )
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != DIGEST:
            raise SigningError(f"platform keys sign SHA-256 only, not {digest_algorithm}")
        if dry_run:  # pyHanko sizing a PDF's signature placeholder: no key operation needed
            return bytes(self._key.public_key().key_size // 8)
        # A key operation takes about a millisecond in software or on an HSM: not worth a thread.
        return self._key.sign(data)
