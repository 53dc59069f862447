"""Each public body's e-seal (電子公印): a certificate naming the body and a key only the
platform uses on the body's behalf, issued the first time the body seals anything.

A body's current seal is its newest one that is not revoked and not within a month of its end;
when there is none, a new one is issued (so a revoked or ageing seal is replaced on the next
document, and documents sealed before stay verifiable with the old certificate). Must run in
the body's tenant scope: ``e_seals`` is tenant-owned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import SigningKey, generate_key, load_key
from madoguchi.signatures.models import ESeal, IssuedCertificate
from madoguchi.signatures.pki import profiles
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import (
    MADE_HERE,
    chain_of,
    load_authority,
    record_certificate,
)
from madoguchi.signatures.pki.profiles import CaName, Purpose
from madoguchi.signatures.pki.revocation import NO_REVOCATION, Mark, Marks

RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class SealingIdentity:
    """What signs as a body: its certificate, the chain above it (root last), and its key."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]
    key: SigningKey


@dataclass(frozen=True)
class Body:
    tenant_id: uuid.UUID
    code: str
    name: str


# A body's seal as last read, by database and body, with the seals authority's revocation
# mark then: while no seal is revoked (the mark is the same) and it is far from its end, it is
# the current one, and sealing a document need not ask the database again.
_known: dict[tuple[str, uuid.UUID], tuple[SealingIdentity, Mark | None]] = {}


async def seal_of(
    db: AsyncSession, settings: Settings, body: Body, marks: Marks | None = None
) -> SealingIdentity:
    """The body's current e-seal, issued now if it has none that may still be used.
    ``marks`` (``revocation_marks``, read in this transaction) lets a known seal be reused."""
    now = dt.datetime.now(dt.UTC)
    where = (str(db.get_bind().engine.url), body.tenant_id)
    mark = None if marks is None else marks.get(CaName.SEALS.value, NO_REVOCATION)
    known = _known.get(where)
    if known is not None and mark is not None and known[1] == mark and _lasts(known[0], now):
        return known[0]
    current = await _current(db, body.tenant_id, now)
    if current is None:
        return await _issue(db, settings, body, now)
    certificate_pem, key_handle = current
    identity = SealingIdentity(
        certificate=_certificate(certificate_pem),
        chain=await chain_of(db, settings, CaName.SEALS),
        key=load_key(settings, key_handle),
    )
    if mark is not None and not db.info.get(MADE_HERE):  # what is made now may be rolled back
        _known[where] = (identity, mark)
    return identity


def _lasts(identity: SealingIdentity, now: dt.datetime) -> bool:
    return identity.certificate.not_valid_after_utc > now + RENEW_BEFORE


@lru_cache(maxsize=256)
def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


async def _current(
    db: AsyncSession, tenant_id: uuid.UUID, now: dt.datetime
) -> tuple[str, str] | None:
    """The current seal's certificate (PEM) and key handle: two columns, not two rows of
    objects, as this runs for every document sealed."""
    query = (
        select(IssuedCertificate.certificate_pem, ESeal.key_handle)
        .join(IssuedCertificate, IssuedCertificate.serial == ESeal.serial)
        .where(
            ESeal.tenant_id == tenant_id,
            IssuedCertificate.revoked_at.is_(None),
            IssuedCertificate.not_after > now + RENEW_BEFORE,
        )
        .order_by(ESeal.created_at.desc(), ESeal.id.desc())
        .limit(1)
    )
    found = (await db.execute(query)).first()
    return None if found is None else (found[0], found[1])


async def _issue(
    db: AsyncSession, settings: Settings, body: Body, now: dt.datetime
) -> SealingIdentity:
    authority = await load_authority(db, settings, CaName.SEALS)
    key = generate_key(settings, f"e-seal {body.code}")
    builder = profiles.seal_builder(authority.issuer, body.name, body.code, key.public_key(), now)
    certificate = signed_certificate(builder, authority.key)
    issued = await record_certificate(db, CaName.SEALS, Purpose.E_SEAL, certificate)
    db.add(ESeal(tenant_id=body.tenant_id, serial=issued.serial, key_handle=key.handle))
    await db.flush()
    db.info.setdefault(MADE_HERE, set()).add(f"e-seal {body.code}")
    return SealingIdentity(certificate, await chain_of(db, settings, CaName.SEALS), key)
