"""The visible stamp: a red round seal and a QR code, its Japanese text embedded and kept inside
the circle, read back with poppler (pdfinfo, pdftotext, pdffonts, pdftoppm, pdfsig) and used by
pyHanko to seal a PDF whose signature stays intact."""

from __future__ import annotations

import io
import math
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import qrcode  # type: ignore[import-untyped]
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from madoguchi.core.errors import InvalidInput
from madoguchi.signatures.stamp import (
    FONT_PATHS,
    QR_MASK,
    SEAL_CENTRE_PT,
    SEAL_INNER_RADIUS_PT,
    SEAL_OUTER_RADIUS_PT,
    SEAL_RED,
    STAMP_SIZE_PT,
    JapaneseFontMissing,
    StampText,
    japanese_font,
    load_japanese_truetype,
    stamp_pdf,
    stamp_style,
)

URL = "https://madoguchi.example.jp/verify/R8-1128-0042-X"
NAMES = [
    "国",
    "千代田区",
    "デジタル庁",
    "北海道札幌市中央区",
    "国土交通省国土地理院",
    "独立行政法人国立印刷局",
    "東京都千代田区霞が関行政情報システム推進局",  # 21 characters
    "Tokyo Metropolitan Government",
    "龍" * 32,  # the longest allowed, with no place to divide it
]


def _text(name: str = "千代田区", **changes: str) -> StampText:
    fields = {"date_text": "令和8年11月28日", "verify_url": URL, "caption": "電子公印 / e-seal"}
    return StampText(body_name=name, **(fields | changes))


def _run(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    """What a poppler tool prints about the PDF (pdftotext prints the text itself)."""
    path = tmp_path / "stamp.pdf"
    path.write_bytes(pdf)
    to_stdout = ["-"] if tool == "pdftotext" else []
    done = subprocess.run([tool, *args, str(path), *to_stdout], capture_output=True, check=True)
    return done.stdout.decode()


def _image(pdf: bytes, tmp_path: Path, dpi: int = 150) -> Image.Image:
    path = tmp_path / "stamp.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path)],
        capture_output=True,
        check=True,
    )
    return Image.open(io.BytesIO(done.stdout)).convert("RGB")


def _pixels(image: Image.Image, test: str) -> Iterator[tuple[int, int]]:
    """(x, y) of each pixel that is red ("red") or near black ("dark")."""
    data = image.tobytes()
    for index in range(image.width * image.height):
        r, g, b = data[3 * index : 3 * index + 3]
        red = r > 150 and g < 110 and b < 120
        dark = r < 90 and g < 90 and b < 90
        if red if test == "red" else dark:
            yield index % image.width, index // image.width


# --- the stamp's PDF ----------------------------------------------------------------------------


def test_the_stamp_is_one_page_of_the_stated_size(tmp_path: Path) -> None:
    info = _run("pdfinfo", stamp_pdf(_text()), tmp_path)

    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    width, height = re.findall(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)[0]
    assert (float(width), float(height)) == pytest.approx(STAMP_SIZE_PT, abs=0.01)
    assert tuple(round(side, 2) for side in STAMP_SIZE_PT) == (170.08, 85.04)  # 60 × 30 mm


@pytest.mark.parametrize("name", NAMES)
def test_every_line_of_the_stamp_is_in_the_text_layer(name: str, tmp_path: Path) -> None:
    text = _run("pdftotext", stamp_pdf(_text(name)), tmp_path)

    words = "".join(text.split())
    assert "".join(name.split()) in words
    assert "令和8年11月28日" in words
    assert "公印" in words
    assert "電子公印/e-seal" in words


def test_the_bottom_band_says_what_the_caller_asks(tmp_path: Path) -> None:
    text = _run("pdftotext", stamp_pdf(_text(seal_word="受付")), tmp_path)

    assert "受付" in text
    assert "公印" not in text.replace("電子公印", "")


def test_the_japanese_font_is_embedded_and_no_other_font_is_used(tmp_path: Path) -> None:
    listing = _run("pdffonts", stamp_pdf(_text("北海道札幌市中央区")), tmp_path)

    fonts = [line.split() for line in listing.splitlines()[2:]]
    assert len(fonts) == 1
    name, kind, _encoding, embedded, subset, unicode_map, *_ = fonts[0]
    assert name.endswith("+IPAexGothic") or "IPA" in name
    assert (kind, embedded, subset, unicode_map) == ("TrueType", "yes", "yes", "yes")


def test_the_stamp_is_the_same_for_the_same_text() -> None:
    assert stamp_pdf(_text()) == stamp_pdf(_text())


# --- what it looks like -------------------------------------------------------------------------


def test_the_seal_is_red_on_the_left_and_the_qr_code_dark_on_the_right(tmp_path: Path) -> None:
    image = _image(stamp_pdf(_text()), tmp_path)
    middle = image.width // 2

    red = list(_pixels(image, "red"))
    dark = list(_pixels(image, "dark"))
    assert len(red) > 3000 and all(x < middle for x, _y in red)
    assert len(dark) > 5000 and all(x > middle for x, _y in dark)


def test_the_seal_red_contrasts_with_white_paper() -> None:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    contrast = 1.05 / (luminance(SEAL_RED) + 0.05)
    assert contrast >= 4.5  # enough for the seal's text, more than the 3:1 graphics need


@pytest.mark.parametrize("name", NAMES)
def test_no_text_leaves_the_circle(name: str, tmp_path: Path) -> None:
    pdf = stamp_pdf(_text(name))
    cx, cy = SEAL_CENTRE_PT
    page_height = STAMP_SIZE_PT[1]
    boxes = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"',
        _run("pdftotext", pdf, tmp_path, "-bbox"),
    )
    seal_boxes = [tuple(map(float, box)) for box in boxes if float(box[0]) < 2 * cx]
    assert len(seal_boxes) >= 3  # the name, the date and the word
    for x_min, y_min, x_max, y_max in seal_boxes:
        for x, y in [(x_min, y_min), (x_min, y_max), (x_max, y_min), (x_max, y_max)]:
            assert math.hypot(x - cx, (page_height - y) - cy) < SEAL_INNER_RADIUS_PT - 0.4

    image = _image(pdf, tmp_path)
    scale = image.height / page_height  # pixels per point
    reach = (SEAL_OUTER_RADIUS_PT + 1.3) * scale + 1.5  # the thick ring's outer edge, a pixel spare
    for x, y in _pixels(image, "red"):
        assert math.hypot(x + 0.5 - cx * scale, y + 0.5 - cy * scale) <= reach


def test_the_qr_code_holds_the_address_with_error_correction_m(tmp_path: Path) -> None:
    image = _image(stamp_pdf(_text()), tmp_path, dpi=300)
    caption_zone = round(5 * 300 / 25.4)  # the lowest 5 mm hold the caption
    dark = [(x, y) for x, y in _pixels(image, "dark") if y < image.height - caption_zone]
    left, top = min(x for x, _ in dark), min(y for _, y in dark)
    right, bottom = max(x for x, _ in dark) + 1, max(y for _, y in dark) + 1

    expected = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK
    )
    expected.add_data(URL)
    matrix = expected.get_matrix()
    size = len(matrix)
    module = (right - left) / size
    assert (bottom - top) / size == pytest.approx(module, rel=0.02)
    seen = [
        [
            image.getpixel((int(left + (j + 0.5) * module), int(top + (i + 0.5) * module)))[0] < 128
            for j in range(size)
        ]
        for i in range(size)
    ]
    assert seen == [list(row) for row in matrix]


# --- the font -----------------------------------------------------------------------------------


def test_a_font_that_cannot_be_embedded_is_an_error_naming_where_it_looked(tmp_path: Path) -> None:
    not_truetype = tmp_path / "fake.ttf"
    not_truetype.write_bytes(b"OTTO not really a font")
    missing = tmp_path / "missing.ttf"

    with pytest.raises(JapaneseFontMissing) as raised:
        load_japanese_truetype([missing, not_truetype])

    assert str(missing) in str(raised.value) and str(not_truetype) in str(raised.value)
    assert "fonts-ipaexfont-gothic" in str(raised.value)


def test_ipaex_gothic_is_found_past_a_cff_font_reportlab_cannot_embed(tmp_path: Path) -> None:
    noto = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fonts-noto-cjk

    font = load_japanese_truetype([tmp_path / "missing.ttf", noto, *FONT_PATHS])

    assert font.face.name == b"IPAexGothic"
    assert ord("印") in font.face.charToGlyph
    assert japanese_font() == font.fontName


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": " "}, "body_name", "one line of visible text"),
        ({"name": "千代田区\n役所"}, "body_name", "one line of visible text"),
        ({"name": "国" * 33}, "body_name", "longer than 32"),
        ({"date_text": ""}, "date_text", "one line of visible text"),
        ({"verify_url": "javascript:alert(1)"}, "verify_url", "web address"),
        ({"verify_url": "https://x.jp/" + "a" * 250}, "verify_url", "longer than 256"),
        ({"caption": "電子公印" * 10}, "caption", "too long to fit"),
        ({"date_text": "二〇二六年十一月二十八日（土）午前十時"}, "date_text", "too long to fit"),
        ({"seal_word": "電子公印です"}, "seal_word", "longer than 4"),
        ({"name": "千代田区🏯"}, "body_name", "cannot draw: 🏯"),
    ],
)
def test_bad_text_is_refused_saying_what_and_where(
    changes: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        stamp_pdf(_text(**changes))

    assert raised.value.field == field
    assert words in str(raised.value)


def test_a_name_that_cannot_be_cut_stays_on_one_line(tmp_path: Path) -> None:
    text = _run("pdftotext", stamp_pdf(_text("ーーーーーーーーーーー")), tmp_path)

    assert "ーーーーーーーーーーー" in text.splitlines()


def test_a_full_width_space_is_allowed_and_kept(tmp_path: Path) -> None:
    text = _run("pdftotext", stamp_pdf(_text("東京都\u3000千代田区")), tmp_path)

    assert "東京都" in text and "千代田区" in text


# --- as pyHanko's stamp -------------------------------------------------------------------------

BOX = (380.0, 60.0, 380.0 + STAMP_SIZE_PT[0], 60.0 + STAMP_SIZE_PT[1])


def test_the_style_draws_only_the_stamp() -> None:
    style = stamp_style(_text())

    assert isinstance(style, StaticStampStyle)
    assert style.border_width == 0 and style.background_opacity == 1.0


def test_a_pdf_sealed_with_the_style_shows_the_stamp_in_its_box(tmp_path: Path) -> None:
    signer, certificate = _self_signed()
    sealed = _seal(_document(), stamp_style(_text()), signer)

    status = _validate(sealed, certificate)
    assert status.intact and status.valid
    image = _image(sealed, tmp_path, dpi=72)  # one pixel per point: the box in pixels
    red = list(_pixels(image, "red"))
    assert len(red) > 1000
    for x, y in red:
        assert BOX[0] <= x <= BOX[2] and BOX[1] <= image.height - y <= BOX[3]
    assert "Signature is Valid" in _run("pdfsig", sealed, tmp_path)


def test_one_style_seals_one_document_after_another(tmp_path: Path) -> None:
    signer, certificate = _self_signed()
    style = stamp_style(_text("デジタル庁"))

    first = _seal(_document(), style, signer)
    second = _seal(_document(), style, signer)

    for sealed in (first, second):
        assert _validate(sealed, certificate).intact
        assert "デジタル庁" in _run("pdftotext", sealed, tmp_path)


def _document() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(595.27, 841.89), invariant=1)
    canvas.drawString(72, 760, "Receipt of an application")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _seal(pdf: bytes, style: StaticStampStyle, signer: SimpleSigner) -> bytes:
    meta = PdfSignatureMetadata(field_name="Seal")
    field = SigFieldSpec("Seal", on_page=0, box=BOX)
    pdf_signer = PdfSigner(meta, signer, stamp_style=style, new_field_spec=field)
    output = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return bytes(output.getvalue())


def _validate(pdf: bytes, certificate: asn1_x509.Certificate) -> PdfSignatureStatus:
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[certificate]))


def _self_signed() -> tuple[SimpleSigner, asn1_x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "千代田区")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    private = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = SimpleSigner(cert, private, SimpleCertificateStore.from_certs([cert]))
    return signer, cert


def test_a_body_s_seal_is_drawn_once_for_many_addresses() -> None:
    from madoguchi.signatures import stamp

    stamp._seal_pdf.cache_clear()
    for number in range(3):
        text = StampText("千代田区", "令和8年11月28日", f"https://x.example/verify/{number}", "c")
        stamp.stamp_style(text)
    assert stamp._seal_pdf.cache_info().misses == 1
