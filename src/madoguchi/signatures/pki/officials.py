"""Officials' own signing identities: a certificate naming the person as an official of the
body, and a key the platform holds for them, as a remote signing service does.

An official's approval is *their* signature, not the body's seal, so each official has a
certificate of their own (CN = their name, O = the body, OU = its code, title 職員) from the
e-seal authority. It is issued the first time they sign, and again when the last one is revoked,
near its end, or names them differently (a changed name must not sign under the old one).
Documents signed before stay verifiable with the old certificate. ``official_signing_keys`` is
tenant-owned: an official of two bodies has one identity in each, and only that body's
transactions see the key handle.
"""

from __future__ import annotations

import datetime as dt
import uuid

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import generate_key, load_key
from madoguchi.signatures.models import IssuedCertificate, OfficialSigningKey
from madoguchi.signatures.pki import profiles
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import chain_of, load_authority, record_certificate
from madoguchi.signatures.pki.profiles import CaName, Purpose
from madoguchi.signatures.pki.seals import RENEW_BEFORE, Body, SealingIdentity


async def official_identity(
    db: AsyncSession, settings: Settings, body: Body, official_id: uuid.UUID, official_name: str
) -> SealingIdentity:
    """The official's current signing identity in ``body``, issued now if they have none that
    may still be used under this name. Runs in the body's tenant scope."""
    name = _checked_name(official_name)
    now = dt.datetime.now(dt.UTC)
    current = await _current(db, body.tenant_id, official_id, now)
    if current is not None:
        row, certificate = current
        if _common_name(certificate) == name:
            chain = await chain_of(db, settings, CaName.SEALS)
            return SealingIdentity(certificate, chain, load_key(settings, row.key_handle))
    return await _issue(db, settings, body, official_id, name, now)


async def _current(
    db: AsyncSession, tenant_id: uuid.UUID, official_id: uuid.UUID, now: dt.datetime
) -> tuple[OfficialSigningKey, x509.Certificate] | None:
    query = (
        select(OfficialSigningKey, IssuedCertificate.certificate_pem)
        .join(IssuedCertificate, IssuedCertificate.serial == OfficialSigningKey.serial)
        .where(
            OfficialSigningKey.tenant_id == tenant_id,
            OfficialSigningKey.official_id == official_id,
            IssuedCertificate.revoked_at.is_(None),
            IssuedCertificate.not_after > now + RENEW_BEFORE,
        )
        .order_by(OfficialSigningKey.created_at.desc(), OfficialSigningKey.id.desc())
        .limit(1)
    )
    found = (await db.execute(query)).first()
    if found is None:
        return None
    return found[0], x509.load_pem_x509_certificate(found[1].encode("ascii"))


async def _issue(
    db: AsyncSession,
    settings: Settings,
    body: Body,
    official_id: uuid.UUID,
    name: str,
    now: dt.datetime,
) -> SealingIdentity:
    authority = await load_authority(db, settings, CaName.SEALS)
    key = generate_key(settings, f"official {body.code} {official_id}")
    builder = profiles.official_builder(
        authority.issuer, name, body.name, body.code, key.public_key(), now
    )
    certificate = signed_certificate(builder, authority.key)
    issued = await record_certificate(db, CaName.SEALS, Purpose.OFFICIAL, certificate)
    db.add(
        OfficialSigningKey(
            tenant_id=body.tenant_id,
            official_id=official_id,
            serial=issued.serial,
            key_handle=key.handle,
        )
    )
    await db.flush()
    return SealingIdentity(certificate, await chain_of(db, settings, CaName.SEALS), key)


def _checked_name(official_name: str) -> str:
    """A certificate's common name holds at most 64 characters (RFC 5280 ub-common-name)."""
    name = " ".join(official_name.split())
    if not name:
        raise InvalidInput(N_("An official needs a name to sign: add it to their account."))
    return name[:64]


def _common_name(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""
