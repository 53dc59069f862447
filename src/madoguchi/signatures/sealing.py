"""Sealing a document as a public body, and the evidence every signature carries.

``seal_document`` gives the PDF a public reference, draws the body's red round seal with the
date and a QR code of that reference's verification page, signs it PAdES B-LT with the body's
e-seal and a platform timestamp, keeps the sealed bytes in the file store and records them in
``sealed_documents``. It runs in the body's tenant scope (its e-seal is tenant-owned).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import today_in_japan
from madoguchi.core.files import FileStore
from madoguchi.core.reference_numbers import new_reference
from madoguchi.core.settings import Settings
from madoguchi.core.wareki import format_wareki
from madoguchi.signatures.models import SealedDocument
from madoguchi.signatures.pdf_signing import (
    Evidence,
    SignatureRequest,
    add_signature,
    with_empty_field,
)
from madoguchi.signatures.pki.authorities import MADE_HERE, chain_of, load_authority
from madoguchi.signatures.pki.profiles import CaName
from madoguchi.signatures.pki.revocation import Marks, crl_ders, revocation_marks
from madoguchi.signatures.pki.seals import Body, seal_of
from madoguchi.signatures.stamp import StampText
from madoguchi.signatures.timestamps import PlatformTimeStamper, TimestampAuthority

CAPTION = "電子公印 e-seal"
# Every authority whose CRL a platform signature's checker needs (the TSA itself issues none).
AUTHORITIES_WITH_CRLS = (CaName.ROOT, CaName.RESIDENTS, CaName.SEALS, CaName.TIMESTAMPS)


@dataclass(frozen=True)
class Sealed:
    document: SealedDocument
    pdf: bytes


async def seal_document(
    db: AsyncSession,
    settings: Settings,
    body: Body,
    pdf: bytes,
    *,
    kind: str,
    title: str,
    subject_id: uuid.UUID | None = None,
    seal_word: str = "公印",
    reference: str | None = None,
) -> Sealed:
    """``pdf`` sealed as ``body``, kept and recorded under a new public reference (or the one
    ``reserve_seal`` gave it, whose field it then fills)."""
    reference = reference or new_reference()
    sealed = await seal_pdf(db, settings, body, pdf, reference, title, seal_word)
    document = _record(body, reference, kind, title, subject_id, sealed, settings)
    db.add(document)
    await db.flush()
    return Sealed(document, sealed)


async def seal_pdf(
    db: AsyncSession,
    settings: Settings,
    body: Body,
    pdf: bytes,
    reference: str,
    title: str,
    seal_word: str = "公印",
) -> bytes:
    """``pdf`` sealed as ``body`` under ``reference``, not yet kept: the signing part of
    ``seal_document`` (the body's e-seal, the evidence, the timestamp, the stamp, PAdES)."""
    stamp = StampText(
        body_name=body.name,
        date_text=format_wareki(today_in_japan()),
        verify_url=verification_url(settings, reference),
        caption=CAPTION,
        seal_word=seal_word,
    )
    marks = await revocation_marks(db)  # one query: revocations seen for the seal and the CRLs
    request = SignatureRequest(
        identity=await seal_of(db, settings, body, marks),
        field_name=seal_field_name(reference),
        signer_name=body.name,
        reason=f"{title} ({reference})",
        stamp=stamp,
    )
    proof = await evidence(db, settings, marks)
    return await add_signature(pdf, request, proof, await timestamper(db, settings))


async def sealed_copy(
    db: AsyncSession, settings: Settings, tenant_id: uuid.UUID, kind: str, subject_id: uuid.UUID
) -> bytes | None:
    """The PDF sealed first for ``subject_id`` as ``kind`` (a receipt, say), if there is one:
    a document is sealed once, and the same bytes are given out after."""
    document = await db.scalar(
        select(SealedDocument)
        .where(
            SealedDocument.tenant_id == tenant_id,
            SealedDocument.kind == kind,
            SealedDocument.subject_id == subject_id,
        )
        .order_by(SealedDocument.sealed_at, SealedDocument.id)
        .limit(1)
    )
    if document is None:
        return None
    return FileStore.from_settings(settings).read(document.file_sha256)


def reserve_seal(pdf: bytes) -> tuple[str, bytes]:
    """A reference for the seal to come and ``pdf`` with its empty field, for a document that
    will be certified before it is sealed (``pdf_signing.with_empty_field`` says why)."""
    reference = new_reference()
    return reference, with_empty_field(pdf, seal_field_name(reference))


def seal_field_name(reference: str) -> str:
    return f"Seal-{reference}"


def verification_url(settings: Settings, reference: str) -> str:
    return f"{settings.resolved_public_url()}/verify/{reference}"


async def evidence(db: AsyncSession, settings: Settings, marks: Marks | None = None) -> Evidence:
    """The root to trust and every authority's current CRL."""
    root = await load_authority(db, settings, CaName.ROOT)
    crls = await crl_ders(db, settings, list(AUTHORITIES_WITH_CRLS), marks)
    return Evidence(trust_roots=[root.certificate], crls=crls)


# pyHanko sizes a signature by asking each new timestamper for a sample token, which it then
# keeps: one timestamper per database per process (the TSA never changes) asks once, not once
# per document.
_timestampers: dict[str, PlatformTimeStamper] = {}


async def timestamper(db: AsyncSession, settings: Settings) -> PlatformTimeStamper:
    """The platform TSA, asked in-process."""
    database = str(db.get_bind().engine.url)
    if database in _timestampers:
        return _timestampers[database]
    made = PlatformTimeStamper(await timestamp_authority(db, settings))
    if not db.info.get(MADE_HERE):  # an authority made now may yet be rolled back
        _timestampers[database] = made
    return made


async def timestamp_authority(db: AsyncSession, settings: Settings) -> TimestampAuthority:
    tsa = await load_authority(db, settings, CaName.TSA)
    chain = await chain_of(db, settings, CaName.TSA)
    return TimestampAuthority(certificate=tsa.certificate, chain=tuple(chain[1:]), key=tsa.key)


def _record(
    body: Body,
    reference: str,
    kind: str,
    title: str,
    subject_id: uuid.UUID | None,
    sealed: bytes,
    settings: Settings,
) -> SealedDocument:
    stored = FileStore.from_settings(settings).store(sealed)
    return SealedDocument(
        tenant_id=body.tenant_id,
        reference=reference,
        kind=kind,
        subject_id=subject_id,
        title=title[:300],
        file_sha256=stored.sha256,
        size=len(sealed),
        sealed_at=dt.datetime.now(dt.UTC),
    )
