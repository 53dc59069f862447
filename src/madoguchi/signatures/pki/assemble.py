"""Certificates and CRLs signed through ``signatures.keys``, whatever holds the key.

cryptography's builders sign only with a key object in memory, and a key on a PKCS#11 token is
not one. So the builder first signs with a throwaway RSA key of the same kind, which fixes every
byte of the to-be-signed part (the signature algorithm named inside it, sha256WithRSAEncryption,
is the same for both keys); that part is then signed with the real key and the whole assembled
again (RFC 5280 §4.1: tbsCertificate, signatureAlgorithm, signatureValue). The throwaway
signature is discarded. The result is checked against the issuer's public key before it is
returned, so a key that signed wrongly never yields a certificate.
"""

from __future__ import annotations

from functools import cache

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from madoguchi.signatures.keys import SigningKey

_ALGORITHM = {"algorithm": "sha256_rsa"}


@cache
def _stand_in() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_certificate(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    draft = builder.sign(_stand_in(), hashes.SHA256())
    tbs = draft.tbs_certificate_bytes
    assembled = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs),
            "signature_algorithm": _ALGORITHM,
            "signature_value": key.sign(tbs),
        }
    )
    certificate = x509.load_der_x509_certificate(assembled.dump())
    _check(key, certificate.signature, tbs)
    return certificate


def signed_crl(
    builder: x509.CertificateRevocationListBuilder, key: SigningKey
) -> x509.CertificateRevocationList:
    draft = builder.sign(_stand_in(), hashes.SHA256())
    tbs = draft.tbs_certlist_bytes
    assembled = asn1_crl.CertificateList(
        {
            "tbs_cert_list": asn1_crl.TbsCertList.load(tbs),
            "signature_algorithm": _ALGORITHM,
            "signature": key.sign(tbs),
        }
    )
    crl = x509.load_der_x509_crl(assembled.dump())
    _check(key, crl.signature, tbs)
    return crl


def _check(key: SigningKey, signature: bytes, tbs: bytes) -> None:
    """Raises InvalidSignature when the key did not make a signature its public half checks."""
    key.public_key().verify(signature, tbs, padding.PKCS1v15(), hashes.SHA256())
