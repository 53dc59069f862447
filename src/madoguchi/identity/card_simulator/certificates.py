"""The simulator's certificates, shaped as JPKI's: RSA-2048 keys, SHA256withRSA signatures.

- The root: a self-signed CA certificate (the simulator's stand-in for the JPKI CA).
- A card's user-authentication certificate: no attribute of its holder, only a random serial in
  its subject (as JPKI's carries none: it proves "this card", not "this person").
- A card's signature certificate: the four basic attributes (name, address, date of birth and
  sex as an ISO/IEC 5218 digit), each an ``otherName`` in the subjectAltName, UTF8String. Real
  JPKI certificates also carry them in the subjectAltName; we do not claim JPKI's own object
  identifiers, and use our own under the registration-free UUID arc 2.25 (ITU-T X.667).

Both card certificates are valid until the end of the holder's 5th birthday after issue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from madoguchi.core.clock import JAPAN

_ARC = "2.25.81277022029632462658035948154399436386"  # a UUID as an object identifier
NAME_OID = x509.ObjectIdentifier(f"{_ARC}.1")
ADDRESS_OID = x509.ObjectIdentifier(f"{_ARC}.2")
BIRTHDATE_OID = x509.ObjectIdentifier(f"{_ARC}.3")
SEX_OID = x509.ObjectIdentifier(f"{_ARC}.4")
ROOT_YEARS = 20
UTF8_STRING = 0x0C


class CertificateRefused(ValueError):
    """A card certificate that the simulator's authority did not issue, or not valid now."""


@dataclass(frozen=True)
class Holder:
    """The four basic attributes, as a signature certificate states them."""

    name: str
    address: str
    birthdate: dt.date
    sex: str  # ISO/IEC 5218: "1" male, "2" female, "9" not applicable


def new_root(key: rsa.RSAPrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "madoguchi card simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Simulator Root CA (not JPKI)"),
        ]
    )
    builder = _builder(name, name, key.public_key(), now, now + dt.timedelta(days=365 * ROOT_YEARS))
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    builder = builder.add_extension(_key_usage(cert_sign=True), critical=True)
    return builder.sign(key, hashes.SHA256())


def issue_authentication(
    root: x509.Certificate,
    root_key: rsa.RSAPrivateKey,
    card_key: rsa.RSAPublicKey,
    issued: dt.date,
    expires: dt.date,
) -> x509.Certificate:
    serial = x509.random_serial_number()
    subject = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{serial:x}")])
    builder = _card_builder(root, subject, card_key, issued, expires)
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    return builder.add_extension(usage, critical=False).sign(root_key, hashes.SHA256())


def issue_signature(
    root: x509.Certificate,
    root_key: rsa.RSAPrivateKey,
    card_key: rsa.RSAPublicKey,
    holder: Holder,
    issued: dt.date,
    expires: dt.date,
) -> x509.Certificate:
    serial = x509.random_serial_number()
    subject = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{serial:x}")])
    names = [
        x509.OtherName(NAME_OID, _utf8(holder.name)),
        x509.OtherName(ADDRESS_OID, _utf8(holder.address)),
        x509.OtherName(BIRTHDATE_OID, _utf8(holder.birthdate.isoformat())),
        x509.OtherName(SEX_OID, _utf8(holder.sex)),
    ]
    builder = _card_builder(root, subject, card_key, issued, expires)
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(root_key, hashes.SHA256())


def holder_of(certificate: x509.Certificate) -> Holder:
    """The attributes a signature certificate states."""
    alt_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    values = {
        other.type_id: _read_utf8(other.value)
        for other in alt_names.value.get_values_for_type(x509.OtherName)
    }
    return Holder(
        name=values[NAME_OID],
        address=values[ADDRESS_OID],
        birthdate=dt.date.fromisoformat(values[BIRTHDATE_OID]),
        sex=values[SEX_OID],
    )


def check_issued_by(
    certificate: x509.Certificate, root: x509.Certificate, now: dt.datetime
) -> None:
    """Refuse a certificate our root did not sign, or one outside its validity."""
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateRefused("the certificate was not issued by this authority") from None
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CertificateRefused("the certificate has expired or is not valid yet")


def fifth_birthday_after(issued: dt.date, birthdate: dt.date) -> dt.date:
    """Until when a card issued on ``issued`` is valid: its holder's 5th birthday after it."""
    first = _birthday_in(issued.year, birthdate)
    if first <= issued:
        first = _birthday_in(issued.year + 1, birthdate)
    return _birthday_in(first.year + 4, birthdate)


def _birthday_in(year: int, birthdate: dt.date) -> dt.date:
    try:
        return birthdate.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)


def _card_builder(
    root: x509.Certificate,
    subject: x509.Name,
    card_key: rsa.RSAPublicKey,
    issued: dt.date,
    expires: dt.date,
) -> x509.CertificateBuilder:
    start = dt.datetime.combine(issued, dt.time(0, 0), JAPAN).astimezone(dt.UTC)
    end = dt.datetime.combine(expires, dt.time(23, 59, 59), JAPAN).astimezone(dt.UTC)
    builder = _builder(subject, root.subject, card_key, start, end)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    return builder.add_extension(_key_usage(cert_sign=False), critical=True)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _utf8(text: str) -> bytes:
    """DER of a UTF8String (what an ``otherName`` holds)."""
    body = text.encode("utf-8")
    if len(body) < 0x80:
        return bytes([UTF8_STRING, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([UTF8_STRING, 0x80 | len(size)]) + size + body


def _read_utf8(der: bytes) -> str:
    if not der or der[0] != UTF8_STRING:
        raise CertificateRefused("an attribute of the certificate is not a UTF8String")
    length, start = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    return der[start : start + length].decode("utf-8")
