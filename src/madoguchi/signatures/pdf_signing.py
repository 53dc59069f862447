"""One PAdES signature added to a PDF: the single place pyHanko signs for the platform.

Every signature is PAdES baseline B-LT: a CAdES signature in the PDF (SubFilter
ETSI.CAdES.detached), an RFC 3161 timestamp from the platform TSA over it, and, in the document
security store, every certificate and CRL needed to check it later without asking anyone — so a
sealed document stays verifiable after the platform is gone, as paper was.

The document is always written as an incremental update: what was there before (earlier
signatures included) is left byte for byte. The first signature of a document may *certify* it
(DocMDP): it then allows form filling and further signatures, nothing else, so that approvals
added later keep the earlier ones valid, and anything else appended shows up as a change.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator import ValidationContext

from madoguchi.signatures.key_signer import KeySigner, to_asn1
from madoguchi.signatures.pki.seals import SealingIdentity
from madoguchi.signatures.stamp import STAMP_SIZE_PT, StampText, stamp_style


class _FetchingIsOffOnPurpose(logging.Filter):
    """pyHanko warns on every signature that it embeds validation data without fetching any:
    here that is the design (the platform hands it every CRL), so the warning would only be
    noise in the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_FetchingIsOffOnPurpose())

MARGIN_PT = 42.5  # 15 mm from the page's right edge
STAMP_BOTTOM_PT = 80.0  # 28 mm up: above the footer line most documents have
# What a document made for sealing leaves free at the foot of its last page, above its bottom
# margin, so that the stamp covers nothing.
STAMP_SPACE_PT = STAMP_BOTTOM_PT + STAMP_SIZE_PT[1] + 14.0
A4_PT = (595.28, 841.89)
KEY_USAGE = {"digital_signature", "non_repudiation"}


@dataclass(frozen=True)
class Evidence:
    """What a checker needs besides the document: whom to trust, and the revocation lists."""

    trust_roots: Sequence[x509.Certificate]
    crls: Sequence[bytes]  # DER, current, of every authority in the chains


@dataclass(frozen=True)
class SignatureRequest:
    identity: SealingIdentity
    field_name: str
    signer_name: str  # shown by PDF readers as who signed
    reason: str | None = None
    location: str | None = None
    stamp: StampText | None = None  # a visible stamp at the foot of the last page
    certify: bool = False


async def add_signature(
    pdf: bytes, request: SignatureRequest, evidence: Evidence, timestamper: TimeStamper
) -> bytes:
    """``pdf`` with one more PAdES B-LT signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    identity = request.identity
    signer = KeySigner(identity.key, identity.certificate, identity.chain)
    metadata = PdfSignatureMetadata(
        field_name=request.field_name,
        md_algorithm="sha256",
        name=request.signer_name,
        reason=request.reason,
        location=request.location,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=request.certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        embed_validation_info=True,
        validation_context=validation_context(evidence, identity.chain),
        signer_key_usage=KEY_USAGE,
    )
    pdf_signer = PdfSigner(
        metadata,
        signer=signer,
        timestamper=timestamper,
        stamp_style=stamp_style(request.stamp) if request.stamp else None,
        new_field_spec=None if _has_field(writer, request.field_name) else _field(writer, request),
    )
    output = io.BytesIO()
    await pdf_signer.async_sign_pdf(writer, output=output)
    return output.getvalue()


def validation_context(
    evidence: Evidence,
    others: Sequence[x509.Certificate] = (),
    moment: dt.datetime | None = None,
) -> ValidationContext:
    """Checks against the given roots and CRLs only: nothing is fetched from the network.
    At a past ``moment``, today's CRLs serve (they also list what was revoked before it)."""
    return ValidationContext(
        trust_roots=[to_asn1(root) for root in evidence.trust_roots],
        other_certs=[to_asn1(certificate) for certificate in others],
        crls=[_parsed_crl(der) for der in evidence.crls],
        allow_fetching=False,
        revocation_mode="hard-fail",
        moment=moment,
        retroactive_revinfo=moment is not None,
    )


def with_empty_field(pdf: bytes, field_name: str) -> bytes:
    """``pdf`` with an empty signature field ``field_name`` where the stamp goes, to be signed
    later. A document certified before it is sealed needs it: under a certification (DocMDP),
    a *new* visible field is a change the certification forbids (pyHanko's difference analysis
    says so), while filling a field that was already there is signing, which it allows."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    spec = fields.SigFieldSpec(field_name, on_page=-1, box=_stamp_box(writer))
    fields.append_signature_field(writer, spec)
    output = io.BytesIO()
    writer.write(output)  # type: ignore[no-untyped-call]
    return output.getvalue()


def _has_field(writer: IncrementalPdfFileWriter, name: str) -> bool:
    return any(found == name for found, *_ in fields.enumerate_sig_fields(writer))


@lru_cache(maxsize=32)
def _parsed_crl(der: bytes) -> asn1_crl.CertificateList:
    """A CRL parsed once: the same few are given with every signature until one changes."""
    return asn1_crl.CertificateList.load(der)


def _field(writer: IncrementalPdfFileWriter, request: SignatureRequest) -> fields.SigFieldSpec:
    if request.stamp is None:
        return fields.SigFieldSpec(request.field_name)
    return fields.SigFieldSpec(request.field_name, on_page=-1, box=_stamp_box(writer))


def _stamp_box(writer: IncrementalPdfFileWriter) -> tuple[int, int, int, int]:
    """The foot of the last page, on the right (whole points)."""
    width, height = (round(side) for side in STAMP_SIZE_PT)
    right, bottom = round(_page_width(writer) - MARGIN_PT), round(STAMP_BOTTOM_PT)
    return (right - width, bottom, right, bottom + height)


def _page_width(writer: IncrementalPdfFileWriter) -> float:
    page = writer.find_page_for_modification(-1)[0].get_object()  # type: ignore[no-untyped-call]
    box = page.get("/MediaBox") or page.get("/Parent", {}).get("/MediaBox")
    if box is None:
        return A4_PT[0]
    return float(box[2]) - float(box[0])


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])
