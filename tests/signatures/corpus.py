"""Hostile files for the verification tests, each made here from a freshly sealed PDF.

Every function takes the bytes of a sealed (or, for the shadow attack, a prepared) PDF and
returns what an attacker or an accident could make of it, by one of two means: pyHanko's
``IncrementalPdfFileWriter`` (a well-formed incremental update, the way a real attacker adds
content without touching the signed bytes) or plain byte surgery (what a broken transfer or a
careless editor does). The signing helpers at the end make signatures the platform must refuse
for their certificate: an unknown authority, an expired certificate, a revoked one.

Nothing is read from disk: the corpus is rebuilt from scratch on every run, so it follows the
signing code as it changes, and no stored fixture can go stale.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import Signer, SimpleSigner
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from madoguchi.signatures.key_signer import KeySigner, to_asn1
from madoguchi.signatures.keys import SigningKey
from madoguchi.signatures.pki.assemble import signed_certificate
from madoguchi.signatures.pki.authorities import LoadedAuthority
from madoguchi.signatures.pki.profiles import YEAR, CaName, Issuer, root_builder, seal_builder
from madoguchi.signatures.verification import MAX_PDF_BYTES

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
FORGED_TEXT = b"BT /F1 24 Tf 100 600 Td (Amount due: 0 yen) Tj ET"
HIDDEN_MARKER = b"(HIDDEN-UNTIL-SWITCHED)"

# --- byte surgery -----------------------------------------------------------------------------


def byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    """The last signature's /ByteRange: [0, end of part 1, start of part 2, length of part 2]."""
    *_, last = BYTE_RANGE.finditer(pdf)
    first, length1, start2, length2 = (int(number) for number in last.groups())
    return first, length1, start2, length2


def one_signed_byte_changed(pdf: bytes) -> bytes:
    """The author's name, inside the first signed range, with one bit flipped."""
    altered = bytearray(pdf)
    altered[pdf.index(b"(anonymous)") + 1] ^= 0x01
    return bytes(altered)


def byte_range_shortened(pdf: bytes) -> bytes:
    """USF: /ByteRange rewritten (same width) to leave the end of the revision unsigned."""
    return _byte_range_rewritten(pdf, lambda a, b, c, d: (a, b, c, d - 100))


def contents_moved(pdf: bytes) -> bytes:
    """SWA-style: /ByteRange pointing the unsigned hole 64 bytes further on, as if /Contents
    had been moved there; the signature then covers "something", not the signed revision."""
    return _byte_range_rewritten(pdf, lambda a, b, c, d: (a, b + 64, c + 64, d - 64))


def _byte_range_rewritten(
    pdf: bytes, change: Callable[[int, int, int, int], tuple[int, int, int, int]]
) -> bytes:
    *_, match = BYTE_RANGE.finditer(pdf)
    old = match.group(0)
    numbers = " ".join(str(n) for n in change(*byte_range(pdf)))
    new = f"/ByteRange [{numbers}]".encode().ljust(len(old))
    return pdf[: match.start()] + new + pdf[match.end() :]


def signature_zeroed(pdf: bytes) -> bytes:
    """USF: the hex of /Contents (unsigned by design) replaced by zeros: no CMS at all."""
    _, length1, start2, _ = byte_range(pdf)
    hole = b"<" + b"0" * (start2 - length1 - 2) + b">"
    return pdf[:length1] + hole + pdf[start2:]


def hole_stuffed(pdf: bytes) -> bytes:
    """The unsigned hole keeps the signature but ends early; an extra key sits in what was
    its zero padding, so the signed bytes are intact but the hole holds more than /Contents."""
    _, length1, start2, _ = byte_range(pdf)
    hole = pdf[length1:start2]
    used = len(hole.rstrip(b"0>"))
    extra = b"> /Forged (yes) %"
    stuffed = hole[:used] + b"0" * (used % 2) + extra
    return pdf[:length1] + stuffed.ljust(len(hole) - 1, b" ") + b"\n" + pdf[start2:]


def truncated(pdf: bytes, length: int) -> bytes:
    return pdf[:length]


def appended_without_xref(pdf: bytes) -> bytes:
    """ISA without a cross-reference section: the page's content redefined after the end of
    the file. pyHanko reads only up to the last %%EOF; a viewer that repairs files by scanning
    for objects would show the forged text."""
    page_ref, _ = _writer(pdf).find_page_for_modification(0)
    contents = page_ref.get_object().raw_get("/Contents")
    number = contents.idnum if isinstance(contents, generic.IndirectObject) else page_ref.idnum
    stream = f"{number} 0 obj\n<< /Length {len(FORGED_TEXT)} >>\nstream\n".encode()
    return pdf + stream + FORGED_TEXT + b"\nendstream\nendobj\n"


# --- files that are not PDFs, or too much of one ---------------------------------------------


def png_file() -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zip_file(pdf: bytes, *, compressed: bool = True) -> bytes:
    """A ZIP holding the sealed PDF: the right content, the wrong file. Stored uncompressed,
    the PDF's own header is within the ZIP's first KiB."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("receipt.pdf", pdf)
    return buffer.getvalue()


def pdf_header_then_garbage() -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 8


def oversized(pdf: bytes) -> bytes:
    """The sealed PDF with comment padding after it: a real PDF, one byte over the limit."""
    return pdf + b"%" + b" " * (MAX_PDF_BYTES - len(pdf))


# --- PDF bombs --------------------------------------------------------------------------------


def inflating_zeros(gigabytes: int) -> bytes:
    """A FlateDecode stream body that inflates to ``gigabytes`` GiB of zeros, made in well under
    a second: after a full flush each MiB of zeros compresses to the same bytes, so one block
    is compressed and repeated."""
    compressor = zlib.compressobj(9)
    mib = bytes(1 << 20)
    head = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * (gigabytes * 1024 - 1) + compressor.flush()


def with_bomb_stream(pdf: bytes, gigabytes: int = 2) -> bytes:
    """An incremental update whose new page content stream inflates to gigabytes."""
    writer = _writer(pdf)
    bomb = generic.StreamObject(
        {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=inflating_zeros(gigabytes)
    )
    writer.add_stream_to_page(0, writer.add_object(bomb))
    return _written(writer)


def with_bomb_object_stream(pdf: bytes, gigabytes: int = 1) -> bytes:
    """An update whose cross-reference stream says the page now lives in an object stream that
    inflates to gigabytes: the reader must decode it to find the page."""
    body = inflating_zeros(gigabytes)
    size = _trailer_size(pdf)
    object_stream, xref_stream = size, size + 1
    update = (
        (
            f"\n{object_stream} 0 obj\n<< /Type /ObjStm /N 1 /First 10 /Filter /FlateDecode"
            f" /Length {len(body)} >>\nstream\n"
        ).encode()
        + body
        + b"\nendstream\nendobj\n"
    )
    xref_offset = len(pdf) + len(update)
    rows = struct.pack(">BIH", 2, object_stream, 0)  # the page: object stream, index 0
    rows += struct.pack(">BIH", 1, len(pdf) + 1, 0) + struct.pack(">BIH", 1, xref_offset, 0)
    page = _first_page_object_number(pdf)
    dictionary = (
        f"{xref_stream} 0 obj\n<< /Type /XRef /Size {size + 2} /W [1 4 2]"
        f" /Index [{page} 1 {object_stream} 2] {_root_entry(pdf)} /Prev {_startxref(pdf)}"
        f" /Length {len(rows)} >>\nstream\n"
    ).encode()
    ending = f"\nendstream\nendobj\nstartxref\n{xref_offset}\n%%EOF\n".encode()
    return pdf + update + dictionary + rows + ending


def deeply_nested(pdf: bytes, depth: int = 100_000) -> bytes:
    """An update whose trailer holds an array nested ``depth`` deep."""
    return _appended_trailer(pdf, b"/Nested " + b"[" * depth + b"]" * depth)


def xref_loop(pdf: bytes) -> bytes:
    """An update whose trailer's /Prev points back at its own cross-reference table."""
    offset = len(pdf)
    entries = f"{_root_entry(pdf)} /Size {_trailer_size(pdf)} /Prev {offset}"
    trailer = f"xref\n0 0\ntrailer\n<< {entries} >>\nstartxref\n{offset}\n%%EOF\n"
    return pdf + trailer.encode()


def huge_page_count(pdf: bytes) -> bytes:
    """An update that claims the page tree holds a billion pages."""
    writer = _writer(pdf)
    pages_ref = writer.root.raw_get("/Pages")
    pages_ref.get_object()[pdf_name("/Count")] = generic.NumberObject(10**9)
    writer.mark_update(pages_ref)
    return _written(writer)


def _appended_trailer(pdf: bytes, extra: bytes) -> bytes:
    offset = len(pdf)
    entries = f"{_root_entry(pdf)} /Size {_trailer_size(pdf)} /Prev {_startxref(pdf)} "
    ending = f">>\nstartxref\n{offset}\n%%EOF\n".encode()
    return pdf + b"xref\n0 0\ntrailer\n<< " + entries.encode() + extra + ending


def _root_entry(pdf: bytes) -> str:
    root = PdfFileReader(io.BytesIO(pdf), strict=False).root_ref
    return f"/Root {root.idnum} {root.generation} R"


def _trailer_size(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf), strict=False).trailer_view["/Size"])


def _startxref(pdf: bytes) -> int:
    *_, last = re.finditer(rb"startxref\s+(\d+)", pdf)
    return int(last.group(1))


def _first_page_object_number(pdf: bytes) -> int:
    page_ref, _ = _writer(pdf).find_page_for_modification(0)
    return int(page_ref.idnum)


# --- incremental updates that add or cover content --------------------------------------------


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def with_content_appended(pdf: bytes) -> bytes:
    """ISA: an update that draws new text on the page through an added content stream."""
    writer = _writer(pdf)
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=FORGED_TEXT)))
    return _written(writer)


def with_contents_replaced(pdf: bytes) -> bytes:
    """An update whose page's /Contents is a new stream: the signed text is gone."""
    writer = _writer(pdf)
    page_ref, _ = writer.find_page_for_modification(0)
    new = writer.add_object(generic.StreamObject(stream_data=FORGED_TEXT))
    page_ref.get_object()[pdf_name("/Contents")] = new
    writer.mark_update(page_ref)
    return _written(writer)


def with_stream_redefined(pdf: bytes) -> bytes:
    """Shadow "replace": the update redefines the page's content stream under its own object
    number, so the page dictionary itself is untouched."""
    writer = _writer(pdf)
    page_ref, _ = writer.find_page_for_modification(0)
    contents = page_ref.get_object().raw_get("/Contents")
    first = contents.get_object()[0] if isinstance(contents.get_object(), list) else contents
    writer.objects[(first.generation, first.idnum)] = generic.StreamObject(stream_data=FORGED_TEXT)
    return _written(writer)


def _appearance(writer: IncrementalPdfFileWriter, width: int, height: int, text: bytes) -> Any:
    drawing = b"1 g 0 0 %d %d re f " % (width, height) + text
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                map(generic.NumberObject, (0, 0, width, height))
            ),
        },
        stream_data=drawing,
    )
    return writer.add_object(stream)


def _annotation(writer: IncrementalPdfFileWriter, entries: dict[str, generic.PdfObject]) -> Any:
    rect = generic.ArrayObject(map(generic.NumberObject, (90, 690, 330, 720)))
    annotation = generic.DictionaryObject(
        {pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Rect"): rect}
    )
    annotation[pdf_name("/F")] = generic.NumberObject(4)  # printed
    annotation.update({pdf_name(key): value for key, value in entries.items()})
    return writer.add_object(annotation)


def _with_annotation(
    pdf: bytes, entries: Callable[[IncrementalPdfFileWriter], dict[str, Any]]
) -> bytes:
    writer = _writer(pdf)
    page_ref, _ = writer.find_page_for_modification(0)
    writer.register_annotation(page_ref, _annotation(writer, entries(writer)))
    return _written(writer)


def with_white_overlay(pdf: bytes) -> bytes:
    """An update adding a white, borderless Square annotation over the signed text."""
    white = generic.ArrayObject([generic.NumberObject(1)] * 3)
    return _with_annotation(
        pdf,
        lambda writer: {
            "/Subtype": pdf_name("/Square"),
            "/C": white,
            "/IC": white,
            "/AP": generic.DictionaryObject({pdf_name("/N"): _appearance(writer, 240, 30, b"")}),
        },
    )


def with_free_text(pdf: bytes) -> bytes:
    """An update adding a FreeText annotation: new words on the signed page."""
    return _with_annotation(
        pdf,
        lambda writer: {
            "/Subtype": pdf_name("/FreeText"),
            "/Contents": pdf_string("Amount due: 0 yen"),
            "/DA": pdf_string("/Helv 12 Tf 0 g"),
            "/AP": generic.DictionaryObject(
                {pdf_name("/N"): _appearance(writer, 240, 30, b"0 g " + FORGED_TEXT)}
            ),
        },
    )


def with_unsigned_signature_field_overlay(pdf: bytes) -> bytes:
    """Sneaky-signature style: an update adding an empty signature field whose widget's
    appearance paints over the signed text (new signature fields are a permitted change)."""
    writer = _writer(pdf)
    page_ref, _ = writer.find_page_for_modification(0)
    widget = _annotation(
        writer,
        {
            "/Subtype": pdf_name("/Widget"),
            "/FT": pdf_name("/Sig"),
            "/T": pdf_string("Approval"),
            "/P": page_ref,
            "/AP": generic.DictionaryObject(
                {pdf_name("/N"): _appearance(writer, 240, 30, b"0 g " + FORGED_TEXT)}
            ),
        },
    )
    writer.register_annotation(page_ref, widget)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(widget)
    writer.update_container(form)
    return _written(writer)


# --- the shadow attack ------------------------------------------------------------------------


def with_hidden_content(pdf: bytes) -> tuple[bytes, int]:
    """Before signing: the document gets a content stream no page uses (invisible, but signed).
    Returns the document and that stream's object number."""
    writer = _writer(pdf)
    hidden = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 600 Td " + HIDDEN_MARKER + b" Tj ET")
    )
    writer.update_root()  # keeps the object in the written update
    writer.root[pdf_name("/Hidden")] = hidden
    return _written(writer), int(hidden.idnum)


def switched_to_hidden(pdf: bytes, hidden_number: int) -> bytes:
    """Shadow "hide-and-replace": after signing, the update only points the page at the
    content that was signed but hidden."""
    writer = _writer(pdf)
    page_ref, _ = writer.find_page_for_modification(0)
    page_ref.get_object()[pdf_name("/Contents")] = generic.IndirectObject(hidden_number, 0, writer)
    writer.mark_update(page_ref)
    return _written(writer)


# --- signatures the platform must refuse for their certificate ---------------------------------


async def signed_plainly(pdf: bytes, signer: Signer, timestamper: TimeStamper) -> bytes:
    """``pdf`` signed PAdES with a platform timestamp, without the signer's own validation
    (which would refuse the certificates these signatures exist to test)."""
    metadata = PdfSignatureMetadata(
        field_name="Forged",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    output = io.BytesIO()
    await PdfSigner(metadata, signer=signer, timestamper=timestamper).async_sign_pdf(
        _writer(pdf), output=output
    )
    return output.getvalue()


def serial_of(certificate: x509.Certificate) -> str:
    return f"{certificate.serial_number:x}"


def unknown_authority_signer(body_name: str) -> Signer:
    """pyHanko's SimpleSigner with a seal certificate from a self-signed CA made here, an
    impostor with the platform root's very names: another key, so nobody trusts it."""
    ca_key, key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
    now = dt.datetime.now(dt.UTC)
    ca = root_builder(ca_key.public_key(), now).sign(ca_key, hashes.SHA256())
    issuer = Issuer(CaName.ROOT, ca, "https://impostor.example")
    leaf = seal_builder(issuer, body_name, "131016", key.public_key(), now)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    store = SimpleCertificateStore.from_certs([to_asn1(ca)])  # type: ignore[no-untyped-call]
    certificate = to_asn1(leaf.sign(ca_key, hashes.SHA256()))
    return SimpleSigner(certificate, asn1_keys.PrivateKeyInfo.load(der), store)


def expired_seal_signer(
    authority: LoadedAuthority, chain: list[x509.Certificate], key: SigningKey, body_name: str
) -> Signer:
    """A seal certificate from the platform's own e-seal CA, whose two years ended a year ago."""
    issued = dt.datetime.now(dt.UTC) - 3 * YEAR
    builder = seal_builder(authority.issuer, body_name, "999999", key.public_key(), issued)
    return KeySigner(key, signed_certificate(builder, authority.key), chain)
