"""What the platform's certificates say: one builder per kind, each complete but for signing.

Every certificate names where its issuer's certificate is (authority information access) and
where its issuer publishes revocations (CRL distribution point), both on the platform's own
routes under ``/pki``; those URLs are fixed in the certificate when it is issued. Keys are
RSA-2048 and signatures SHA256withRSA, as JPKI's.

Lifetimes: the root 20 years, issuing authorities 10, a public body's e-seal 2 (a new one is
issued when the old nears its end or is revoked), the timestamp authority's 5.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

ORGANISATION = "madoguchi"
YEAR = dt.timedelta(days=365)
ROOT_LIFE, ISSUER_LIFE, SEAL_LIFE, TSA_LIFE = 20 * YEAR, 10 * YEAR, 2 * YEAR, 5 * YEAR
BACKDATE = dt.timedelta(minutes=5)  # tolerates a checker whose clock is slightly behind


class CaName(StrEnum):
    ROOT = "root"
    RESIDENTS = "residents"  # My Number card certificates (the card simulator's)
    SEALS = "seals"  # public bodies' e-seals
    TIMESTAMPS = "timestamps"  # issues the timestamp authority's certificate
    TSA = "tsa"  # the timestamp authority itself: not a CA, but kept the same way


COMMON_NAMES = {
    CaName.ROOT: "madoguchi Root CA",
    CaName.RESIDENTS: "madoguchi Residents Signature CA",
    CaName.SEALS: "madoguchi e-Seal CA",
    CaName.TIMESTAMPS: "madoguchi Timestamping CA",
    CaName.TSA: "madoguchi Timestamp Authority",
}


class Purpose(StrEnum):
    AUTHORITY = "authority"
    CARD_SIGNATURE = "card_signature"
    CARD_AUTHENTICATION = "card_authentication"
    E_SEAL = "e_seal"
    TIMESTAMPING = "timestamping"
    OFFICIAL = "official"  # an official's own signature, on the body's internal documents


@dataclass(frozen=True)
class Issuer:
    """Who signs a certificate: enough of it to fill the certificate's issuer fields."""

    name: CaName
    certificate: x509.Certificate
    base_url: str  # the platform's public address

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject


def authority_name(name: CaName) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAMES[name]),
        ]
    )


def crl_url(base_url: str, name: CaName) -> str:
    return f"{base_url}/pki/{name.value}.crl"


def certificate_url(base_url: str, name: CaName) -> str:
    return f"{base_url}/pki/{name.value}.crt"


def root_builder(key: rsa.RSAPublicKey, now: dt.datetime) -> x509.CertificateBuilder:
    name = authority_name(CaName.ROOT)
    builder = _base(name, name, key, now, ROOT_LIFE)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
    return builder.add_extension(_usage(authority=True), critical=True)


def authority_builder(
    issuer: Issuer, name: CaName, key: rsa.RSAPublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    builder = _issued(issuer, authority_name(name), key, now, ISSUER_LIFE)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    return builder.add_extension(_usage(authority=True), critical=True)


def seal_builder(
    issuer: Issuer, body_name: str, body_code: str, key: rsa.RSAPublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    """A public body's e-seal (電子公印): the body is the subject, with its code."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, body_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, body_code),
            x509.NameAttribute(NameOID.COMMON_NAME, body_name),
        ]
    )
    return _leaf(_issued(issuer, subject, key, now, SEAL_LIFE))


def official_builder(
    issuer: Issuer,
    official_name: str,
    body_name: str,
    body_code: str,
    key: rsa.RSAPublicKey,
    now: dt.datetime,
) -> x509.CertificateBuilder:
    """An official's signing certificate (職員の電子署名): the person, as an official of the
    body; it lives as long as an e-seal and is issued by the same authority."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, body_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, body_code),
            x509.NameAttribute(NameOID.TITLE, "職員"),
            x509.NameAttribute(NameOID.COMMON_NAME, official_name),
        ]
    )
    return _leaf(_issued(issuer, subject, key, now, SEAL_LIFE))


def timestamping_builder(
    issuer: Issuer, key: rsa.RSAPublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAMES[CaName.TSA]),
        ]
    )
    builder = _leaf(_issued(issuer, subject, key, now, TSA_LIFE))
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
    return builder.add_extension(usage, critical=True)  # RFC 3161 §2.3: critical, and only it


def card_builder(
    issuer: Issuer,
    subject: x509.Name,
    key: rsa.RSAPublicKey,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.CertificateBuilder:
    """A My Number card certificate's common part; the caller adds what the card states."""
    builder = _with_issuer_links(issuer, _base(subject, issuer.subject, key, start, end - start))
    return _leaf(builder)


def _issued(
    issuer: Issuer, subject: x509.Name, key: rsa.RSAPublicKey, now: dt.datetime, life: dt.timedelta
) -> x509.CertificateBuilder:
    return _with_issuer_links(issuer, _base(subject, issuer.subject, key, now - BACKDATE, life))


def _with_issuer_links(issuer: Issuer, builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    links = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(certificate_url(issuer.base_url, issuer.name)),
        )
    ]
    point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(crl_url(issuer.base_url, issuer.name))],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    builder = builder.add_extension(x509.AuthorityInformationAccess(links), critical=False)
    builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)
    return builder.add_extension(aki, critical=False)


def _leaf(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    return builder.add_extension(_usage(authority=False), critical=True)


def _base(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPublicKey,
    start: dt.datetime,
    life: dt.timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + life)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def _usage(*, authority: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not authority,
        content_commitment=not authority,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=authority,
        crl_sign=authority,
        encipher_only=False,
        decipher_only=False,
    )
