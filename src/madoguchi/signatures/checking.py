"""Verification with the platform's knowledge: its root, its current CRLs, its register of
certificates (for "revoked since" and "which kind of signer"), and its sealed documents.

``verification.check_pdf`` judges the file alone; this module adds what only the platform
knows, and finds a sealed document by the reference printed on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.files import FileStore
from madoguchi.core.reference_numbers import parse_reference
from madoguchi.core.settings import Settings
from madoguchi.signatures.models import IssuedCertificate, SealedDocument
from madoguchi.signatures.sealing import evidence
from madoguchi.signatures.verification import SignatureCheck, Verdict, check_pdf

UNKNOWN_REFERENCE = "No sealed document has this reference. Check it against the document."


@dataclasses.dataclass(frozen=True)
class Found:
    """A sealed document found by its reference, and the verdict on the copy the platform kept."""

    document: SealedDocument
    verdict: Verdict


async def check_document(db: AsyncSession, settings: Settings, pdf: bytes) -> Verdict:
    verdict = await check_pdf(pdf, await evidence(db, settings))
    revoked = await _revocations(db, [check.serial for check in verdict.signatures])
    return dataclasses.replace(
        verdict, signatures=tuple(_with_revocation(check, revoked) for check in verdict.signatures)
    )


async def find_sealed(db: AsyncSession, settings: Settings, typed: str) -> Found:
    try:
        reference = parse_reference(typed, "reference")
    except InvalidInput:
        raise InvalidInput(UNKNOWN_REFERENCE, field="reference") from None
    document = await db.scalar(select(SealedDocument).where(SealedDocument.reference == reference))
    if document is None:
        raise NotFound(UNKNOWN_REFERENCE)
    kept = FileStore.from_settings(settings).read(document.file_sha256)
    return Found(document, await check_document(db, settings, kept))


async def _revocations(db: AsyncSession, serials: list[str]) -> dict[str, dt.datetime]:
    known = [serial for serial in serials if serial]
    if not known:
        return {}
    rows = await db.execute(
        select(IssuedCertificate.serial, IssuedCertificate.revoked_at).where(
            IssuedCertificate.serial.in_(known), IssuedCertificate.revoked_at.is_not(None)
        )
    )
    return {serial: as_utc(revoked_at) for serial, revoked_at in rows if revoked_at}


def _with_revocation(check: SignatureCheck, revoked: dict[str, dt.datetime]) -> SignatureCheck:
    when = revoked.get(check.serial)
    if when is None or not check.valid:
        return check  # not revoked, or not valid anyway (revoked before: check_pdf said so)
    return dataclasses.replace(check, revoked_since=when)
