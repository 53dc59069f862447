"""The simulator's card certificates, shaped as JPKI's and issued by the platform PKI's
residents' authority (``signatures``: ``CaName.RESIDENTS``, under the platform root).

- A card's user-authentication certificate: no attribute of its holder, only a random serial in
  its subject (as JPKI's carries none: it proves "this card", not "this person"), and the
  clientAuth extended key usage.
- A card's signature certificate: the four basic attributes (name, address, date of birth and
  sex as an ISO/IEC 5218 digit), each an ``otherName`` in the subjectAltName, UTF8String. Real
  JPKI certificates also carry them in the subjectAltName; we do not claim JPKI's own object
  identifiers, and use our own under the registration-free UUID arc 2.25 (ITU-T X.667).

The common part (issuer links, key usage digitalSignature + nonRepudiation, no CA) is
``signatures.service.card_builder``'s; this module adds only what the card states. Both card
certificates are valid until the end of the holder's 5th birthday after issue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from madoguchi.core.clock import JAPAN
from madoguchi.signatures.service import Issuer, card_builder

_ARC = "2.25.81277022029632462658035948154399436386"  # a UUID as an object identifier
NAME_OID = x509.ObjectIdentifier(f"{_ARC}.1")
ADDRESS_OID = x509.ObjectIdentifier(f"{_ARC}.2")
BIRTHDATE_OID = x509.ObjectIdentifier(f"{_ARC}.3")
SEX_OID = x509.ObjectIdentifier(f"{_ARC}.4")
UTF8_STRING = 0x0C

Build = Callable[[Issuer], x509.CertificateBuilder]


class CertificateRefused(ValueError):
    """A card certificate the residents' authority did not issue, not valid now, or revoked."""


class CertificateRevoked(CertificateRefused):
    """A card certificate its authority revoked (the holder's name or address changed, or the
    card was lost)."""


@dataclass(frozen=True)
class Holder:
    """The four basic attributes, as a signature certificate states them."""

    name: str
    address: str
    birthdate: dt.date
    sex: str  # ISO/IEC 5218: "1" male, "2" female, "9" not applicable


def authentication_builder(card_key: rsa.RSAPublicKey, issued: dt.date, expires: dt.date) -> Build:
    """What ``issue_resident_certificate`` signs for a card's user-authentication key."""

    def build(issuer: Issuer) -> x509.CertificateBuilder:
        builder = _card(issuer, card_key, issued, expires)
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
        return builder.add_extension(usage, critical=False)

    return build


def signature_builder(
    card_key: rsa.RSAPublicKey, holder: Holder, issued: dt.date, expires: dt.date
) -> Build:
    """What ``issue_resident_certificate`` signs for a card's signature key."""
    names = [
        x509.OtherName(NAME_OID, _utf8(holder.name)),
        x509.OtherName(ADDRESS_OID, _utf8(holder.address)),
        x509.OtherName(BIRTHDATE_OID, _utf8(holder.birthdate.isoformat())),
        x509.OtherName(SEX_OID, _utf8(holder.sex)),
    ]

    def build(issuer: Issuer) -> x509.CertificateBuilder:
        builder = _card(issuer, card_key, issued, expires)
        return builder.add_extension(x509.SubjectAlternativeName(names), critical=False)

    return build


def holder_of(certificate: x509.Certificate) -> Holder:
    """The attributes a signature certificate states."""
    try:
        alt_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise CertificateRefused("the certificate states no attributes of its holder") from None
    values = {
        other.type_id: _read_utf8(other.value)
        for other in alt_names.value.get_values_for_type(x509.OtherName)
    }
    try:
        return Holder(
            name=values[NAME_OID],
            address=values[ADDRESS_OID],
            birthdate=dt.date.fromisoformat(values[BIRTHDATE_OID]),
            sex=values[SEX_OID],
        )
    except (KeyError, ValueError):
        raise CertificateRefused("the certificate lacks one of the four attributes") from None


def check_issued_by(
    certificate: x509.Certificate,
    authority: x509.Certificate,
    now: dt.datetime,
    revoked_at: dt.datetime | None,
) -> None:
    """Refuse a certificate ``authority`` did not sign, one outside its validity, or one
    revoked at ``now`` (``revoked_at`` is what the authority's records say)."""
    try:
        certificate.verify_directly_issued_by(authority)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateRefused("the certificate was not issued by this authority") from None
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CertificateRefused("the certificate has expired or is not valid yet")
    if revoked_at is not None and revoked_at <= now:
        raise CertificateRevoked("the certificate was revoked")


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


def _card(
    issuer: Issuer, card_key: rsa.RSAPublicKey, issued: dt.date, expires: dt.date
) -> x509.CertificateBuilder:
    """The subject is a random serial, as JPKI's: it names the certificate, not the person."""
    subject = x509.Name(
        [x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{x509.random_serial_number():x}")]
    )
    start = dt.datetime.combine(issued, dt.time(0, 0), JAPAN).astimezone(dt.UTC)
    end = dt.datetime.combine(expires, dt.time(23, 59, 59), JAPAN).astimezone(dt.UTC)
    return card_builder(issuer, subject, card_key, start, end)


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
