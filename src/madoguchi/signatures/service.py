"""What other domains use of ``signatures``: the platform PKI, e-seals, timestamps, sealing
and verification. Everything here takes the request's database session and the settings.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import (
    LoadedAuthority,
    chain_of,
    load_authority,
    pem_of,
    record_certificate,
    serial_text,
)
from madoguchi.signatures.pki.profiles import CaName, Issuer, Purpose, card_builder
from madoguchi.signatures.pki.revocation import Reason, crl_der, parse_reason, revoke_certificate
from madoguchi.signatures.pki.seals import Body, SealingIdentity, seal_of

__all__ = [
    "Body",
    "CaName",
    "Issuer",
    "LoadedAuthority",
    "Purpose",
    "Reason",
    "SealingIdentity",
    "card_builder",
    "chain_of",
    "crl_der",
    "issue_resident_certificate",
    "load_authority",
    "parse_reason",
    "pem_of",
    "revoke_certificate",
    "seal_of",
    "serial_text",
    "trust_roots",
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
