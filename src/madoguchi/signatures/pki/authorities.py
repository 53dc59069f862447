"""The platform's own signing identities, made on first use and kept in ``pki_authorities``:
the root, the issuing authorities under it, and the timestamp authority.

Each is a certificate and the handle of its key (``signatures.keys``). The first request that
needs one makes it (and the root, if that is missing too); two processes doing so at once both
insert "if absent" and then both use the one that was kept, so there is only ever one root.
A certificate made for a row that lost that race is never recorded or used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import SigningKey, generate_key, load_key
from madoguchi.signatures.models import Authority, IssuedCertificate
from madoguchi.signatures.pki import profiles
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.profiles import CaName, Issuer, Purpose

# Who issues each identity, and with which profile.
ISSUED_BY = {
    CaName.RESIDENTS: CaName.ROOT,
    CaName.SEALS: CaName.ROOT,
    CaName.TIMESTAMPS: CaName.ROOT,
    CaName.TSA: CaName.TIMESTAMPS,
}


@dataclass(frozen=True)
class LoadedAuthority:
    name: CaName
    certificate: x509.Certificate
    key: SigningKey
    base_url: str

    @property
    def issuer(self) -> Issuer:
        return Issuer(self.name, self.certificate, self.base_url)


# An authority's row never changes once made, so each process remembers what it read, by
# database and name: sealing a document needs five of them, and a query each would be most of
# what the platform adds to pyHanko's own work (bench/signing.py). One made in this very
# transaction is not remembered: the transaction may yet roll back.
_known: dict[tuple[str, CaName], tuple[x509.Certificate, str]] = {}
MADE_HERE = "pki_made_in_this_transaction"


async def load_authority(db: AsyncSession, settings: Settings, name: CaName) -> LoadedAuthority:
    """The identity ``name``, made and recorded the first time it is asked for."""
    where = (str(db.get_bind().engine.url), name)
    known = _known.get(where)
    if known is None:
        known = await _read_or_make(db, settings, name)
        if name not in db.info.get(MADE_HERE, set()):
            _known[where] = known
    certificate, handle = known
    return LoadedAuthority(
        name=name,
        certificate=certificate,
        key=load_key(settings, handle),
        base_url=settings.resolved_public_url(),
    )


async def chain_of(db: AsyncSession, settings: Settings, name: CaName) -> list[x509.Certificate]:
    """``name``'s certificate and every one above it, the root last."""
    chain = [(await load_authority(db, settings, name)).certificate]
    while name in ISSUED_BY:
        name = ISSUED_BY[name]
        chain.append((await load_authority(db, settings, name)).certificate)
    return chain


async def _read_or_make(
    db: AsyncSession, settings: Settings, name: CaName
) -> tuple[x509.Certificate, str]:
    row = await db.get(Authority, name.value)
    if row is None:
        row = await _make(db, settings, name)
        db.info.setdefault(MADE_HERE, set()).add(name)
    return _certificate(row.certificate_pem), row.key_handle


def pem_of(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


async def record_certificate(
    db: AsyncSession, issuer: CaName, purpose: Purpose, certificate: x509.Certificate
) -> IssuedCertificate:
    row = IssuedCertificate(
        serial=serial_text(certificate.serial_number),
        issuer=issuer.value,
        purpose=purpose.value,
        subject=certificate.subject.rfc4514_string(),
        certificate_pem=pem_of(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )
    db.add(row)
    await db.flush()
    return row


def serial_text(serial: int) -> str:
    return f"{serial:x}"


async def _make(db: AsyncSession, settings: Settings, name: CaName) -> Authority:
    key = generate_key(settings, f"madoguchi {name.value}")
    now = dt.datetime.now(dt.UTC)
    issuer_name: CaName = CaName.ROOT
    if name is CaName.ROOT:
        certificate = signed_certificate(profiles.root_builder(key.public_key(), now), key)
    else:
        issuer_name = ISSUED_BY[name]
        issuer = await load_authority(db, settings, issuer_name)
        certificate = signed_certificate(_builder(issuer.issuer, name, key, now), issuer.key)
    pem = pem_of(certificate)
    values = {"name": name.value, "certificate_pem": pem, "key_handle": key.handle}
    await db.execute(_insert_if_absent(db, values))
    row = await db.get_one(Authority, name.value, populate_existing=True)
    if row.certificate_pem == pem:  # this process's one was kept
        purpose = Purpose.TIMESTAMPING if name is CaName.TSA else Purpose.AUTHORITY
        await record_certificate(db, issuer_name, purpose, certificate)
    return row


def _builder(
    issuer: Issuer, name: CaName, key: SigningKey, now: dt.datetime
) -> x509.CertificateBuilder:
    if name is CaName.TSA:
        return profiles.timestamping_builder(issuer, key.public_key(), now)
    return profiles.authority_builder(issuer, name, key.public_key(), now)


def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def _insert_if_absent(db: AsyncSession, values: dict[str, str]) -> Executable:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(Authority).values(**values).on_conflict_do_nothing()
