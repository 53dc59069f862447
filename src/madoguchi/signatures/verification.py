"""Checking a signed PDF, for anyone: who signed or sealed it, when, whether it changed after,
and the certificate's status then and now — in plain words.

For each signature, pyHanko checks that the signed bytes are intact, that the signature
verifies, that the certificate chains to the platform's root and was neither expired nor
revoked *at the moment of the signature's timestamp* (the CRLs are the platform's current ones,
which also list what was revoked before that moment), and what was appended to the file after
the signature (difference analysis). A document is valid only when it has at least one
signature and every signature is; any later change beyond adding signatures, filling form
fields or validation data is "changed after signing". The status *now* (revoked since,
in ``signatures.checking``; expired since, here): a signature made while the certificate was
good stays valid, and says so.

Nothing from the file is trusted before it is checked: the size is capped, the file must
start as a PDF and end as one (``%%EOF``: readers that repair a file would otherwise show
objects appended after the last revision, which pyHanko rightly never reads), and any failure
to read it is a reason, never an exception. pyHanko's decode
limits (0.38: per stream and per document, on by default) stop decompression bombs; running
into one is its own reason. A signature is checked at the latest moment its timestamp allows
(genTime plus the token's accuracy), so a certificate revoked within that margin counts as
revoked then: when in doubt, not valid. One change pyHanko's form-filling rules let through
is refused here: an empty signature field added after a signature, with a widget on the page,
can paint over what was signed (the "sneaky signature" attack).
The corpus in tests/signatures/corpus.py is the list of attacks this is held to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints

from madoguchi.core.i18n import N_
from madoguchi.signatures.pdf_signing import Evidence, validation_context

MAX_PDF_BYTES = 20 * 1024 * 1024
PADDING = b"\r\n\t\f \x00"  # what transfers and tools may leave after the final %%EOF
ALLOWED_LATER_CHANGES = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)
KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)

TOO_LARGE = N_("The file is larger than {limit} MB.")
NOT_PDF = N_("The file is not a PDF.")
UNREADABLE = N_("The file could not be read as a PDF: it is damaged or incomplete.")
UNFINISHED = N_(
    "The file does not end as a PDF ends: it is incomplete, or something was added after its end."
)
UNSIGNED = N_("The file has no signature or seal.")
NOT_INTACT = N_("The document was altered after it was signed: its signed bytes do not match.")
BAD_SIGNATURE = N_("The signature does not verify with the signer's certificate.")
CHANGED_AFTER = N_(
    "Content was added or changed after this signature was made, in a way signing does not explain."
)
DOCMDP = N_("The document was changed in a way its certifying signature does not allow.")
UNTRUSTED = N_("The certificate was not issued by an authority this platform trusts.")
REVOKED_THEN = N_("The certificate had been revoked when the document was signed ({date}).")
EXPIRED_THEN = N_("The certificate was not valid (expired or not yet valid) when it was used.")
BAD_TIMESTAMP = N_("The signature's timestamp is not valid.")
NOT_CHECKED = N_("The signature could not be checked: {detail}")
TOO_MUCH_CONTENT = N_(
    "The file's compressed content expands to more than can safely be read: "
    "it is refused as a possible decompression bomb."
)
COVERING_FIELD_ADDED = N_(
    "An empty signature field that shows on the page was added after this signature: "
    "it can cover what was signed."
)


@dataclass(frozen=True)
class Problem:
    """A reason something is not valid: a message to translate and its parameters."""

    message: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SignatureCheck:
    field_name: str
    signer: str  # the certificate's common name
    organisation: str | None
    serial: str  # hex
    signed_at: dt.datetime | None  # from the trusted timestamp
    stated_at: dt.datetime | None  # what the signer's computer said
    timestamped: bool
    intact: bool
    unchanged_after: bool
    problems: tuple[Problem, ...]
    revoked_since: dt.datetime | None = None  # after signing: still valid, but say so
    expired_since: dt.datetime | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Verdict:
    sha256: str
    size: int
    problems: tuple[Problem, ...]  # about the file as a whole
    signatures: tuple[SignatureCheck, ...] = ()

    @property
    def valid(self) -> bool:
        return (
            not self.problems
            and bool(self.signatures)
            and all(check.valid for check in self.signatures)
        )

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for check in self.signatures for p in check.problems)]


async def check_pdf(pdf: bytes, evidence: Evidence) -> Verdict:
    """The verdict on ``pdf``, by the file and the evidence alone."""
    digest, size = hashlib.sha256(pdf).hexdigest(), len(pdf)
    if size > MAX_PDF_BYTES:
        return Verdict(digest, size, (Problem(TOO_LARGE, {"limit": str(MAX_PDF_BYTES >> 20)}),))
    if b"%PDF-" not in pdf[:1024]:  # readers accept a header within the first 1 KiB
        return Verdict(digest, size, (Problem(NOT_PDF),))
    if not pdf[-4096:].rstrip(PADDING).endswith(b"%%EOF"):
        return Verdict(digest, size, (Problem(UNFINISHED),))
    try:
        signatures = _signatures(pdf)
    except PdfDecodeLimitError:
        return Verdict(digest, size, (Problem(TOO_MUCH_CONTENT),))
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
        return Verdict(digest, size, (Problem(UNREADABLE),))  # RecursionError: deep nesting
    if not signatures:
        return Verdict(digest, size, (Problem(UNSIGNED),))
    checks = [await _check(signature, evidence) for signature in signatures]
    return Verdict(digest, size, (), tuple(checks))


def _signatures(pdf: bytes) -> list[Any]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=True)
    return list(reader.embedded_regular_signatures)


async def _check(signature: Any, evidence: Evidence) -> SignatureCheck:
    certificate = _certificate(signature)
    signed_at = _timestamp_time(signature)
    context = validation_context(evidence, moment=_latest_moment(signature, signed_at))
    try:
        status = await async_validate_pdf_signature(
            signature,
            signer_validation_context=context,
            ts_validation_context=context,
            key_usage_settings=KEY_USAGE,
        )
    except PdfDecodeLimitError:
        return _failed(signature, certificate, signed_at, Problem(TOO_MUCH_CONTENT))
    except Exception as error:  # noqa: BLE001 - a hostile file must give a reason, not a 500
        problem = Problem(NOT_CHECKED, {"detail": type(error).__name__})
        return _failed(signature, certificate, signed_at, problem)
    return _from_status(signature, certificate, signed_at, status)


def _from_status(
    signature: Any,
    certificate: x509.Certificate | None,
    signed_at: dt.datetime | None,
    status: Any,
) -> SignatureCheck:
    unchanged = status.modification_level in ALLOWED_LATER_CHANGES
    serial = f"{certificate.serial_number:x}" if certificate else ""
    now = dt.datetime.now(dt.UTC)
    return SignatureCheck(
        field_name=str(signature.field_name),
        signer=_name_part(certificate, NameOID.COMMON_NAME) or "",
        organisation=_name_part(certificate, NameOID.ORGANIZATION_NAME),
        serial=serial,
        signed_at=signed_at,
        stated_at=signature.self_reported_timestamp,
        timestamped=signed_at is not None,
        intact=bool(status.intact and status.valid),
        unchanged_after=unchanged,
        problems=tuple(_problems(signature, status, unchanged)),
        expired_since=_expired_since(certificate, now),
    )


def _problems(signature: Any, status: Any, unchanged: bool) -> list[Problem]:
    if not status.intact:
        return [Problem(NOT_INTACT)]
    if not status.valid:
        return [Problem(BAD_SIGNATURE)]
    problems: list[Problem] = []
    if not unchanged:
        problems.append(Problem(CHANGED_AFTER))
    elif _covering_field_added(signature, status):
        problems.append(Problem(COVERING_FIELD_ADDED))
    elif status.docmdp_ok is False:
        problems.append(Problem(DOCMDP))
    problems += _trust_problems(status)
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid and timestamp.trusted):
        problems.append(Problem(BAD_TIMESTAMP))
    return problems


def _trust_problems(status: Any) -> list[Problem]:
    if status.revocation_details is not None:
        when = status.revocation_details.revocation_date
        return [Problem(REVOKED_THEN, {"date": when.date().isoformat()})]
    if status.trusted:
        return []
    indication = str(getattr(status.trust_problem_indic, "name", ""))
    # OUT_OF_BOUNDS_*: the moment of signing lies outside the certificate's validity
    if any(word in indication for word in ("EXPIRED", "NOT_YET_VALID", "OUT_OF_BOUNDS")):
        return [Problem(EXPIRED_THEN)]
    return [Problem(UNTRUSTED)]


def _covering_field_added(signature: Any, status: Any) -> bool:
    """Whether a form field changed after the signature is, in the final document, an empty
    signature field with a widget of some size: pyHanko counts adding one as form filling,
    but its appearance can paint anything over the signed page. Unreadable means yes."""
    changed = getattr(status.diff_result, "changed_form_fields", None)
    if not changed:
        return False
    try:
        empty = enumerate_sig_fields(signature.reader, filled_status=False)
        return any(name in changed and _shows(field) for name, _, field in empty)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return True


def _shows(field: Any) -> bool:
    field = field.get_object()
    widgets = field.get("/Kids") or [field]
    return any(_area(widget.get_object().get("/Rect")) > 0 for widget in widgets)


def _area(rect: Any) -> float:
    if rect is None:
        return 0.0
    left, bottom, right, top = (float(value) for value in rect)
    return abs(right - left) * abs(top - bottom)


def _failed(
    signature: Any, certificate: x509.Certificate | None, signed_at: dt.datetime | None,
    problem: Problem,
) -> SignatureCheck:  # fmt: skip
    return SignatureCheck(
        field_name=str(signature.field_name),
        signer=_name_part(certificate, NameOID.COMMON_NAME) or "",
        organisation=_name_part(certificate, NameOID.ORGANIZATION_NAME),
        serial=f"{certificate.serial_number:x}" if certificate else "",
        signed_at=signed_at,
        stated_at=None,
        timestamped=signed_at is not None,
        intact=False,
        unchanged_after=False,
        problems=(problem,),
    )


def _certificate(signature: Any) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(signature.signer_cert.dump())
    except (ValueError, AttributeError, KeyError):
        return None


def _timestamp_time(signature: Any) -> dt.datetime | None:
    """The time in the signature's timestamp token, read before it is checked (the check is
    done at that moment, and fails if the token is not genuine)."""
    info = _token_info(signature)
    if info is None:
        return None
    moment: dt.datetime = info["gen_time"].native
    return moment


def _latest_moment(signature: Any, signed_at: dt.datetime | None) -> dt.datetime | None:
    """genTime plus the token's stated accuracy: the signature may have been made that late,
    so a certificate must have been good until then (RFC 3161 §2.4.2)."""
    info = _token_info(signature)
    if signed_at is None or info is None:
        return signed_at
    try:
        accuracy = info["accuracy"].native or {}
        margin = dt.timedelta(
            seconds=accuracy.get("seconds") or 0,
            milliseconds=accuracy.get("millis") or 0,
            microseconds=accuracy.get("micros") or 0,
        )
    except (ValueError, KeyError, TypeError, OverflowError):
        return signed_at  # the token's check then fails on its own
    return signed_at + margin


def _token_info(signature: Any) -> Any | None:
    """The TSTInfo of the signature's timestamp token, unchecked; None without one."""
    try:
        for attribute in signature.signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == "signature_time_stamp_token":
                token: cms.ContentInfo = attribute["values"][0]
                return token["content"]["encap_content_info"]["content"].parsed
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return None


def _name_part(certificate: x509.Certificate | None, oid: x509.ObjectIdentifier) -> str | None:
    if certificate is None:
        return None
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _expired_since(certificate: x509.Certificate | None, now: dt.datetime) -> dt.datetime | None:
    if certificate is None or certificate.not_valid_after_utc > now:
        return None
    return certificate.not_valid_after_utc
