"""The applicant's My Number card signature on a submission made through the API.

What is signed is what the pages sign (``submissions.signing.payload_of``): the answers as
madoguchi keeps them — parsed, normalised, files described — with the receiving body, the
procedure and the version answered. A client cannot rebuild that from what it sent, so
``…/signing-payload`` answers the exact bytes for its answers, and the submission must carry a
signature of those bytes.

The API has no signed-in person (its routes take no credentials), so nobody's card sign-in can
be compared with the signer. The certificate is the applicant's identity instead: it must come
from the residents' authority, be valid and unrevoked now, state its holder (name, address,
date of birth, sex), and the signature must be fresh. The submission keeps the signature, whose
certificate carries those attributes, and its audit record names the certificate's serial.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import format_moment
from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.settings import Settings
from madoguchi.identity.card_signing import NO_ATTRIBUTES, signer_name
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition
from madoguchi.procedures.validation import Accepted
from madoguchi.signatures import service as signatures
from madoguchi.signatures.service import CHANGED, DetachedVerdict
from madoguchi.submissions.signing import (
    FRESH_FOR,
    SignatureRefused,
    Signed,
    payload_of,
    signature_required,
    verdict_on,
)
from madoguchi.tenants import service as tenants

FIELD = "signature"


class SignatureRequired(SignatureRefused):
    code = "signature-required"
    title = N_("This procedure needs the applicant's signature")


UNSIGNED = N_(
    "This procedure needs the applicant's signature with their My Number card, in place of "
    "the registered seal its paper form needed, and none was sent. Send it in signature: the "
    "base64 of a detached CAdES signature of the bytes that {payload_url} returns for these "
    "answers."
)
NOT_VALID = N_(
    "This procedure needs a valid signature with the applicant's My Number card, and the one "
    "sent is not valid: {reason}. Nothing was submitted."
)
NOT_THESE_ANSWERS = N_(
    "it is not a signature of these answers as madoguchi keeps them; sign the exact bytes "
    "that {payload_url} returns for them"
)
STALE = N_(
    "This procedure needs a fresh signature with the applicant's My Number card: this one was "
    "made at {time}, more than ten minutes ago. Sign again. Nothing was submitted."
)
NOT_ASKED = N_("This procedure does not ask for a signature: send the answers without one.")
NOT_BASE64 = N_("The signature must be the base64 of the DER signature.")


@dataclass(frozen=True)
class Signing:
    """What a signature on a submission must be of: these answers to this version."""

    procedure: procedures.Procedure
    version: int
    definition: Definition
    accepted: Accepted

    @property
    def required(self) -> bool:
        return signature_required(self.definition)

    @property
    def payload_url(self) -> str:
        return f"POST /api/v1/procedures/{self.procedure.id}/signing-payload"


async def payload_to_sign(session: AsyncSession, wanted: Signing) -> bytes:
    """The exact bytes to sign; refused for a procedure that asks for no signature."""
    if not wanted.required:
        raise InvalidInput(NOT_ASKED, field="procedure")
    return await _payload(session, wanted)


async def checked_signature(
    session: AsyncSession, settings: Settings, wanted: Signing, sent: str | None
) -> Signed | None:
    """The signature, checked, when the procedure asks for one (None when it does not);
    SignatureRequired, SignatureRefused or InvalidInput, naming the field, when it is not
    there or not good."""
    if not wanted.required:
        if sent is not None:
            raise InvalidInput(NOT_ASKED, field=FIELD)
        return None
    if sent is None:
        raise SignatureRequired(UNSIGNED, field=FIELD, payload_url=wanted.payload_url)
    der = _decoded(sent)
    now = dt.datetime.now(dt.UTC)
    verdict = await verdict_on(session, settings, await _payload(session, wanted), der, now)
    return _accepted(verdict, der, now, wanted)


def _accepted(verdict: DetachedVerdict, der: bytes, now: dt.datetime, wanted: Signing) -> Signed:
    """The same rules as the pages' ``signing.check_signature``, the certificate standing for
    the person: valid now, fresh, and naming its holder."""
    if not verdict.valid or verdict.signer is None or verdict.signed_at is None:
        raise SignatureRefused(NOT_VALID, field=FIELD, reason=_reason(verdict, wanted))
    if now - verdict.signed_at > FRESH_FOR:
        moment = format_moment(verdict.signed_at, current_language())
        raise SignatureRefused(STALE, field=FIELD, time=moment)
    holder = signer_name(verdict.signer)
    if holder is None:
        raise SignatureRefused(NOT_VALID, field=FIELD, reason=_lowered(NO_ATTRIBUTES))
    serial = signatures.serial_text(verdict.signer.serial_number)
    return Signed(der, serial, verdict.signed_at, holder)


def _reason(verdict: DetachedVerdict, wanted: Signing) -> str:
    if verdict.reason_template == CHANGED:  # the client signed other bytes than ours
        return _lowered(NOT_THESE_ANSWERS, payload_url=wanted.payload_url)
    return verdict.reason_in_current_language()


def _lowered(message: str, **params: str) -> str:
    """A sentence as the reason inside NOT_VALID's sentence."""
    text = _(message, **params).rstrip(".")
    return text[:1].lower() + text[1:]


def _decoded(sent: str) -> bytes:
    try:
        der = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(NOT_BASE64, field=FIELD) from None
    if not der:
        raise InvalidInput(NOT_BASE64, field=FIELD)
    return der


async def _payload(session: AsyncSession, wanted: Signing) -> bytes:
    """``signing.payload_of`` the answers kept, for the body that receives them."""
    receiver = await session.get_one(tenants.Tenant, wanted.procedure.tenant_id)
    return payload_of(receiver.code, wanted.procedure.id, wanted.version, wanted.accepted.answers)
