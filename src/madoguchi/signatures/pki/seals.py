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

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import SigningKey, generate_key, load_key
from madoguchi.signatures.models import ESeal, IssuedCertificate
from madoguchi.signatures.pki import profiles
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import chain_of, load_authority, record_certificate
from madoguchi.signatures.pki.profiles import CaName, Purpose

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


async def seal_of(db: AsyncSession, settings: Settings, body: Body) -> SealingIdentity:
    """The body's current e-seal, issued now if it has none that may still be used."""
    now = dt.datetime.now(dt.UTC)
    row = await _current(db, body.tenant_id, now)
    if row is None:
        return await _issue(db, settings, body, now)
    seal, issued = row
    return SealingIdentity(
        certificate=x509.load_pem_x509_certificate(issued.certificate_pem.encode("ascii")),
        chain=await chain_of(db, settings, CaName.SEALS),
        key=load_key(settings, seal.key_handle),
    )


async def _current(
    db: AsyncSession, tenant_id: uuid.UUID, now: dt.datetime
) -> tuple[ESeal, IssuedCertificate] | None:
    query = (
        select(ESeal, IssuedCertificate)
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
    return SealingIdentity(certificate, await chain_of(db, settings, CaName.SEALS), key)
