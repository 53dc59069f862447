"""What other domains use of ``signatures``: the platform PKI, e-seals, timestamps, sealing
and verification. Everything here takes the request's database session and the settings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.settings import Settings
from madoguchi.signatures.checking import Found, check_document, find_sealed
from madoguchi.signatures.detached import (
    CHANGED,
    SIGNATURE_FORMAT,
    DetachedVerdict,
    sign_detached,
    verify_detached,
)
from madoguchi.signatures.models import IssuedCertificate, OfficialSigningKey
from madoguchi.signatures.payload import PAYLOAD_FORMAT, signing_payload
from madoguchi.signatures.pdf_signing import STAMP_SPACE_PT, SignatureRequest, add_signature
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import (
    LoadedAuthority,
    chain_of,
    load_authority,
    pem_of,
    record_certificate,
    serial_text,
)
from madoguchi.signatures.pki.officials import official_identity
from madoguchi.signatures.pki.profiles import CaName, Issuer, Purpose, card_builder
from madoguchi.signatures.pki.revocation import Reason, crl_der, parse_reason, revoke_certificate
from madoguchi.signatures.pki.seals import Body, SealingIdentity, seal_of
from madoguchi.signatures.sealing import (
    Sealed,
    evidence,
    reserve_seal,
    seal_document,
    sealed_copy,
    timestamper,
)
from madoguchi.signatures.stamp import japanese_font
from madoguchi.signatures.verification import (
    MAX_PDF_BYTES,
    UNSIGNED,
    Problem,
    SignatureCheck,
    Verdict,
    check_pdf,
)

__all__ = [
    "CHANGED",
    "MAX_PDF_BYTES",
    "PAYLOAD_FORMAT",
    "SIGNATURE_FORMAT",
    "STAMP_SPACE_PT",
    "UNSIGNED",
    "Body",
    "CaName",
    "DetachedVerdict",
    "Found",
    "Issuer",
    "LoadedAuthority",
    "OfficialSigningKey",
    "Problem",
    "Purpose",
    "Reason",
    "Sealed",
    "SealingIdentity",
    "SignatureCheck",
    "SignatureRequest",
    "Verdict",
    "add_signature",
    "card_builder",
    "certificate_status",
    "chain_of",
    "check_document",
    "check_pdf",
    "crl_der",
    "evidence",
    "find_sealed",
    "issue_resident_certificate",
    "japanese_font",
    "load_authority",
    "parse_reason",
    "pem_of",
    "reserve_seal",
    "revoke_certificate",
    "seal_document",
    "seal_of",
    "sealed_copy",
    "serial_text",
    "sign_detached",
    "signing_identity_of_official",
    "signing_payload",
    "timestamper",
    "trust_roots",
    "verify_detached",
]


async def issue_resident_certificate(
    db: AsyncSession,
    settings: Settings,
    purpose: Purpose,
    build: Callable[[Issuer], x509.CertificateBuilder],
) -> x509.Certificate:
    """A My Number card certificate from the residents' authority: ``build`` makes everything
    but the signature (starting from ``card_builder``); it is signed, recorded and returned."""
    authority = await load_authority(db, settings, CaName.RESIDENTS)
    certificate = signed_certificate(build(authority.issuer), authority.key)
    await record_certificate(db, CaName.RESIDENTS, purpose, certificate)
    return certificate


async def trust_roots(db: AsyncSession, settings: Settings) -> list[x509.Certificate]:
    """What a verifier trusts: the platform's root."""
    return [(await load_authority(db, settings, CaName.ROOT)).certificate]


async def certificate_status(db: AsyncSession, serial: str) -> dt.datetime | None:
    """When the certificate with ``serial`` (hex) was revoked; None while it is not (or when
    this platform did not issue it: a chain check refuses those)."""
    row = await db.get(IssuedCertificate, serial.strip().lower())
    if row is None or row.revoked_at is None:
        return None
    return as_utc(row.revoked_at)


async def signing_identity_of_official(
    db: AsyncSession, settings: Settings, body: Body, official_id: uuid.UUID, official_name: str
) -> SealingIdentity:
    """The official's own signing identity in ``body`` (certificate, chain, server-held key),
    issued on first use; not the body's seal. Runs in the body's tenant scope."""
    return await official_identity(db, settings, body, official_id, official_name)
