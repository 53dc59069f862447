"""A resident's signature with the My Number card on what they submit ([P4] item 2).

What is signed is ``signatures.service.signing_payload`` of the answers kept, the receiving
body's code, the procedure's id and the version answered: RFC 8785 bytes anyone can rebuild
from the stored submission. The signature is CAdES-BES, detached (``cades-bes-detached``),
made by the card over the payload's digest. On receipt it is checked now, against the platform
root and the CRLs of the residents' authority and the root (valid and unrevoked when it was
made, and made just now); its certificate's four attributes must be the signed-in person's;
then it is kept with the submission: format, DER, certificate serial, signing time. The same
check runs again whenever the signature is shown to staff.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity.card_signing import check_signer, signer_name
from madoguchi.procedures.definition import Definition, Signature
from madoguchi.signatures import service as signatures
from madoguchi.signatures.service import (
    SIGNATURE_FORMAT,
    CaName,
    DetachedVerdict,
    signing_payload,
    verify_detached,
)
from madoguchi.submissions.models import Submission

FRESH_FOR = dt.timedelta(minutes=10)  # a signature made longer ago is not this submission's


class SignatureRefused(MadoguchiError):
    code = "signature-refused"
    status = 422
    title = N_("The signature was not accepted")


NOT_VALID = N_("Your signature could not be accepted: {reason}. Nothing was sent.")
STALE = N_("The signature was made more than ten minutes ago. Sign again. Nothing was sent.")


@dataclass(frozen=True)
class Signed:
    """A signature checked on receipt, ready to be kept with the submission."""

    der: bytes
    serial: str
    signed_at: dt.datetime
    signer_name: str


def signature_required(definition: Definition) -> bool:
    return definition.signature is Signature.REQUIRED


def payload_of(
    tenant_code: str, procedure_id: uuid.UUID, version: int, answers: Mapping[str, Any]
) -> bytes:
    return signing_payload(
        tenant_code=tenant_code,
        procedure_id=str(procedure_id),
        procedure_version=version,
        answers=answers,
    )


async def verdict_on(
    db: AsyncSession,
    settings: Settings,
    payload: bytes,
    der: bytes,
    moment: dt.datetime | None = None,
) -> DetachedVerdict:
    """``verify_detached`` against the platform root, with the residents' and root CRLs."""
    roots = await signatures.trust_roots(db, settings)
    crls = [
        await signatures.crl_der(db, settings, name) for name in (CaName.RESIDENTS, CaName.ROOT)
    ]
    return await verify_detached(payload, der, trust_roots=roots, crls=crls, moment=moment)


async def check_signature(
    db: AsyncSession, settings: Settings, payload: bytes, der: bytes, person_id: uuid.UUID
) -> Signed:
    """The signature, if it is good now and the signed-in person's; SignatureRefused or
    CardSigningFailed (with the reason) if not."""
    now = dt.datetime.now(dt.UTC)
    verdict = await verdict_on(db, settings, payload, der, moment=now)
    if not verdict.valid or verdict.signer is None or verdict.signed_at is None:
        raise SignatureRefused(NOT_VALID, reason=verdict.reason_in_current_language())
    if now - verdict.signed_at > FRESH_FOR:
        raise SignatureRefused(STALE)
    holder = await check_signer(db, person_id, verdict.signer)
    serial = signatures.serial_text(verdict.signer.serial_number)
    return Signed(der, serial, verdict.signed_at, holder.name)


def keep_signature(submission: Submission, signed: Signed) -> None:
    submission.signature_format = SIGNATURE_FORMAT
    submission.signature = signed.der
    submission.signature_serial = signed.serial
    submission.signed_at = signed.signed_at


async def recheck(
    db: AsyncSession, settings: Settings, submission: Submission, tenant_code: str
) -> DetachedVerdict | None:
    """The kept signature checked again from the stored answers (None when unsigned)."""
    if submission.signature is None:
        return None
    payload = payload_of(
        tenant_code, submission.procedure_id, submission.version, submission.answers
    )
    return await verdict_on(db, settings, payload, submission.signature)


@dataclass(frozen=True)
class SignatureShown:
    """What a receipt or a staff page says of a kept signature, checked again just now."""

    valid: bool
    reason: str
    signer_name: str | None
    signed_at: dt.datetime | None
    revoked_since: dt.datetime | None = None  # valid when signed, and says so


async def signature_shown(
    db: AsyncSession, settings: Settings, submission: Submission, tenant_code: str
) -> SignatureShown | None:
    verdict = await recheck(db, settings, submission, tenant_code)
    if verdict is None:
        return None
    name = signer_name(verdict.signer) if verdict.signer is not None else None
    reason = verdict.reason_in_current_language()
    return SignatureShown(verdict.valid, reason, name, verdict.signed_at, verdict.revoked_since)
