"""Revoking certificates, and the CRLs that say so.

A CRL reflects ``pki_certificates`` as it is when asked for: a revocation is in the very next
CRL anyone fetches ("takes effect at once"). Building and signing one costs a few milliseconds,
and every seal embeds four, so each process keeps the last CRL it signed per authority with the
*mark* of the revocations it lists (how many, and the latest): one cheap query compares the mark,
and a changed mark (a revocation, or one rolled back) means a new CRL. A kept CRL is also made
anew after an hour, so that none handed out is ever near its nextUpdate. Its number (RFC 5280
§5.2.3, which must only ever grow) is the moment it was made in microseconds, so no counter has
to be written. It promises the next one within a day (nextUpdate).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.settings import Settings
from madoguchi.signatures.models import IssuedCertificate
from madoguchi.signatures.pki.assemble import signed_crl
from madoguchi.signatures.pki.authorities import load_authority
from madoguchi.signatures.pki.profiles import CaName

CRL_LIFE = dt.timedelta(days=1)
REMAKE_AFTER = dt.timedelta(hours=1)
Mark = tuple[int, dt.datetime | None]
Marks = dict[str, Mark]
NO_REVOCATION: Mark = (0, None)
_signed: dict[tuple[str, CaName], tuple[Mark, dt.datetime, bytes]] = {}


class Reason(StrEnum):
    """RFC 5280 reason codes that apply here."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"  # e.g. a card holder's name or address changed
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"


_FLAGS = {
    Reason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    Reason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    Reason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    Reason.SUPERSEDED: x509.ReasonFlags.superseded,
    Reason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


def parse_reason(raw: str, field: str = "reason") -> Reason:
    try:
        return Reason(raw.strip().lower().replace("-", "_"))
    except ValueError:
        choices = ", ".join(reason.value for reason in Reason)
        raise InvalidInput(f"Choose a reason: one of {choices}.", field=field) from None


async def revoke_certificate(
    db: AsyncSession, serial: str, reason: Reason, when: dt.datetime | None = None
) -> IssuedCertificate:
    """Revoke the certificate with ``serial`` (hex); revoking it again changes nothing."""
    row = await db.get(IssuedCertificate, serial.strip().lower())
    if row is None:
        raise NotFound("No certificate issued by this platform has that serial number.")
    if row.revoked_at is None:
        row.revoked_at = when or dt.datetime.now(dt.UTC)
        row.revocation_reason = reason.value
        await db.flush()
    return row


async def crl_der(db: AsyncSession, settings: Settings, name: CaName) -> bytes:
    """The current CRL of the authority ``name``, DER."""
    return (await crl_ders(db, settings, [name]))[0]


async def crl_ders(
    db: AsyncSession, settings: Settings, names: list[CaName], marks: Marks | None = None
) -> list[bytes]:
    """The current CRLs of the authorities ``names`` (one query for all of their marks, unless
    the caller read them just now)."""
    marks = await revocation_marks(db) if marks is None else marks
    database, now = str(db.get_bind().engine.url), dt.datetime.now(dt.UTC)
    ders = []
    for name in names:
        mark = marks.get(name.value, NO_REVOCATION)
        kept = _signed.get((database, name))
        if kept is None or kept[0] != mark or now - kept[1] > REMAKE_AFTER:
            kept = (mark, now, await _build(db, settings, name, now))
            _signed[(database, name)] = kept
        ders.append(kept[2])
    return ders


async def revocation_marks(db: AsyncSession) -> Marks:
    """Per issuing authority, how many certificates it revoked and when the latest: what
    changes whenever a revocation is made (or rolled back)."""
    rows = await db.execute(
        select(
            IssuedCertificate.issuer,
            func.count(),
            func.max(IssuedCertificate.revoked_at),
        )
        .where(IssuedCertificate.revoked_at.is_not(None))
        .group_by(IssuedCertificate.issuer)
    )
    return {issuer: (count, latest) for issuer, count, latest in rows}


async def _build(db: AsyncSession, settings: Settings, name: CaName, now: dt.datetime) -> bytes:
    authority = await load_authority(db, settings, name)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(now)
        .next_update(now + CRL_LIFE)
        .add_extension(x509.CRLNumber(_crl_number(now)), critical=False)
        .add_extension(_authority_key_id(authority.certificate), critical=False)
    )
    for row in await _revoked(db, name):
        builder = builder.add_revoked_certificate(_entry(row))
    crl = signed_crl(builder, authority.key)
    return crl.public_bytes(serialization.Encoding.DER)


async def _revoked(db: AsyncSession, name: CaName) -> list[IssuedCertificate]:
    query = select(IssuedCertificate).where(
        IssuedCertificate.issuer == name.value, IssuedCertificate.revoked_at.is_not(None)
    )
    return list((await db.scalars(query.order_by(IssuedCertificate.revoked_at))).all())


def _entry(row: IssuedCertificate) -> x509.RevokedCertificate:
    assert row.revoked_at is not None  # noqa: S101 - selected so
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(int(row.serial, 16))
        .revocation_date(as_utc(row.revoked_at))
    )
    reason = _FLAGS[Reason(row.revocation_reason or Reason.UNSPECIFIED)]
    return builder.add_extension(x509.CRLReason(reason), critical=False).build()


def _crl_number(now: dt.datetime) -> int:
    return int(now.timestamp() * 1_000_000)


def _authority_key_id(certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)
