"""The visible stamp of a sealed PDF: a red round hanko beside a QR code that opens the
document's verification page.

The seal is drawn as a 日付印 (dater stamp) is cut: a thick and a thin ring; the body's name in
the top band, the date in the middle band between two rules, and a short word (公印, 受付 …) in
the bottom band. Every line of text is sized to stay inside the inner ring, measured against
the circle's chord at the line's outer edge. A long name goes on two or three lines, cut where
a name divides (after 県, 市, 省, 法人 …) unless only a cut inside a word lets it read. The QR
code (error correction M) has the caption under it, in near-black.

The stamp is a one-page PDF drawn with reportlab (``stamp_pdf``). pyHanko imports that page as
the static background of the signature field's appearance (``stamp_style``), so a preview and
the seal come from the same drawing. Its font is an embedded IPA TrueType font: reportlab
embeds only TrueType outlines (Noto CJK is CFF), and a seal must look the same in every reader.
So when no such font is installed that is an error (``JapaneseFontMissing``), never a fallback.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import qrcode  # type: ignore[import-untyped]
from pyhanko.pdf_utils import content, layout
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.stamp import StaticStampStyle
from reportlab.lib.colors import HexColor  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFError, TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from madoguchi.core.errors import InvalidInput, ServiceUnavailable
from madoguchi.core.i18n import N_

FONT_NAME = "MadoguchiJapaneseGothic"
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)

STAMP_SIZE_PT: tuple[float, float] = (60 * mm, 30 * mm)
SEAL_RED = "#c8102e"  # 5.9:1 against white (WCAG asks 3:1 for graphics, 4.5:1 for text)
SEAL_CENTRE_PT = (STAMP_SIZE_PT[1] / 2, STAMP_SIZE_PT[1] / 2)
SEAL_OUTER_RADIUS_PT = SEAL_CENTRE_PT[1] - 2.0  # centre line of the thick ring
SEAL_INNER_RADIUS_PT = SEAL_OUTER_RADIUS_PT - 3.8  # centre line of the thin ring
_OUTER_RING, _INNER_RING, _RULE = 2.6, 0.8, 0.9  # stroke widths
_RULE_OFFSET = 0.31 * SEAL_INNER_RADIUS_PT  # the two rules, above and below the centre
_BAND_GAP = _RULE / 2 + 1.4  # between a rule and the text beside it
_NAME_MAX_PT, _DATE_MAX_PT, _WORD_MAX_PT, _CAPTION_MAX_PT = 12.0, 9.5, 8.5, 6.5
_MIN_TEXT_PT = 4.0
_READS_WELL_PT = 7.0  # a name this large reads well on the seal
_INK = 0.025  # in em: text is filled and stroked this wide, for the weight of a cut seal
_INK_MAX = _INK * _NAME_MAX_PT
# how far from the centre text may reach: it keeps 2 pt off the thin ring
_TEXT_RADIUS = SEAL_INNER_RADIUS_PT - _INNER_RING / 2 - _INK_MAX / 2 - 2.0
# the bands' text areas: (bottom, top) measured from the seal's centre
_TOP_BAND = (_RULE_OFFSET + _BAND_GAP, _TEXT_RADIUS)
_MIDDLE_BAND = (-_RULE_OFFSET + _BAND_GAP, _RULE_OFFSET - _BAND_GAP)
_BOTTOM_BAND = (-_TEXT_RADIUS, -_RULE_OFFSET - _BAND_GAP)
_DESCENT, _LINE_PITCH = 0.12, 1.12  # in em: the ideographic em box sits 0.12 below the baseline
_QR_SIDE = 22 * mm
_QR_TOP = STAMP_SIZE_PT[1] - 2 * mm
_QR_CENTRE_X = STAMP_SIZE_PT[1] + (STAMP_SIZE_PT[0] - STAMP_SIZE_PT[1]) / 2
_CAPTION_BASELINE = 2.4 * mm
_CAPTION_WIDTH = STAMP_SIZE_PT[0] - STAMP_SIZE_PT[1] - 2 * mm

# where a body's name divides naturally: after these, and at a space
_BREAK_AFTER = set("都道府県市区町村郡省庁局院署部課室所館園校会団構人")
_NO_LINE_START = set("ーッャュョァィゥェォヵヶっゃゅょぁぃぅぇぉ、。・）」』")

_LIMITS = {"body_name": 32, "date_text": 20, "verify_url": 256, "caption": 40}


class JapaneseFontMissing(ServiceUnavailable):
    """The server cannot draw seals until a Japanese TrueType font is installed."""

    code = "japanese-font-missing"


@dataclass(frozen=True)
class StampText:
    """What the stamp says. ``seal_word`` fills the seal's bottom band (受付 on a receipt)."""

    body_name: str
    date_text: str
    verify_url: str
    caption: str
    seal_word: str = "公印"  # part of the seal's design, Japanese in every language

    def __post_init__(self) -> None:
        for field, limit in _LIMITS.items():
            _check_line(field, getattr(self, field), limit)
        _check_line("seal_word", self.seal_word, 4)
        if not self.verify_url.startswith(("https://", "http://")):
            raise InvalidInput(
                N_("The verification address must be a web address, https://… (got {value})."),
                field="verify_url",
                value=self.verify_url[:40],
            )


def _check_line(field: str, value: str, limit: int) -> None:
    if not value.strip() or not value.replace("\u3000", " ").isprintable():
        raise _invalid(N_("The stamp's {part} must be one line of visible text."), field)
    if len(value) > limit:
        raise _invalid(
            N_("The stamp's {part} is longer than {limit} characters."), field, limit=limit
        )


def _invalid(message: str, field: str, **params: object) -> InvalidInput:
    """The error for one of ``StampText``'s fields, its message naming the field."""
    return InvalidInput(message, field=field, part=field, **params)


# --- the font --------------------------------------------------------------------------------


@cache
def japanese_font() -> str:
    """The reportlab name of a Japanese TrueType font, registered for embedding (as a subset)."""
    pdfmetrics.registerFont(load_japanese_truetype())
    return FONT_NAME


def load_japanese_truetype(candidates: Iterable[Path] = FONT_PATHS) -> TTFont:
    """The first candidate that is a TrueType font; ``JapaneseFontMissing`` naming them all."""
    tried = []
    for path in candidates:
        tried.append(str(path))
        if path.is_file():
            try:
                return TTFont(FONT_NAME, str(path))
            except TTFError:
                continue  # e.g. an OpenType (CFF) font behind the alternatives link
    raise JapaneseFontMissing(
        N_(
            "No Japanese TrueType font to embed in seals (install fonts-ipaexfont-gothic); "
            "looked for: {paths}"
        ),
        paths=", ".join(tried),
    )


# --- the drawing -----------------------------------------------------------------------------


def stamp_pdf(text: StampText) -> bytes:
    """The stamp as a one-page PDF of ``STAMP_SIZE_PT``, its font embedded."""
    return _drawn(text, with_qr=True)


def _without_address(text: StampText) -> StampText:
    """The stamp's text as the cache of seals keys it: the address is only in the QR code."""
    return dataclasses.replace(text, verify_url=SEAL_ONLY)


@lru_cache(maxsize=256)
def _seal_pdf(text: StampText) -> bytes:
    """Everything but the QR code's modules: the same for a body's documents of one day, so it
    is drawn once (drawing and embedding the font is most of a stamp's cost)."""
    return _drawn(text, with_qr=False)


def _drawn(text: StampText, *, with_qr: bool) -> bytes:
    font = japanese_font()
    _check_glyphs(text, font)
    buffer = io.BytesIO()
    # the initial font is ours too, or reportlab lists an unused, non-embedded Helvetica
    canvas = Canvas(buffer, pagesize=STAMP_SIZE_PT, invariant=1, initialFontName=font)
    canvas.setTitle(text.body_name)
    _draw_seal(canvas, text, font)
    _draw_qr_ground(canvas)
    if with_qr:
        _draw_qr(canvas, text.verify_url)
    _draw_caption(canvas, text.caption, font)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _check_glyphs(text: StampText, font: str) -> None:
    """A character the font lacks would print as an empty box on an official seal."""
    known = pdfmetrics.getFont(font).face.charToGlyph
    for field in ("body_name", "date_text", "caption", "seal_word"):
        missing = [char for char in getattr(text, field) if ord(char) not in known]
        if missing:
            message = N_("The stamp's {part} has a character the seal's font cannot draw: {char}")
            raise _invalid(message, field, char=missing[0])


def _draw_seal(canvas: Canvas, text: StampText, font: str) -> None:
    canvas.saveState()  # the red, the stroked text, the line widths stay in the seal
    canvas.setStrokeColor(HexColor(SEAL_RED))
    canvas.setFillColor(HexColor(SEAL_RED))
    _draw_rings_and_rules(canvas)
    name_lines, name_size = _layout_name(text.body_name, font)
    _draw_lines(canvas, font, name_lines, name_size, _TOP_BAND)
    date_size = _fit_one(text.date_text, font, _MIDDLE_BAND, _DATE_MAX_PT, "date_text")
    _draw_lines(canvas, font, [text.date_text], date_size, _MIDDLE_BAND)
    word_size = _fit_one(text.seal_word, font, _BOTTOM_BAND, _WORD_MAX_PT, "seal_word")
    _draw_lines(canvas, font, [text.seal_word], word_size, _BOTTOM_BAND)
    canvas.restoreState()


def _draw_rings_and_rules(canvas: Canvas) -> None:
    cx, cy = SEAL_CENTRE_PT
    canvas.setLineWidth(_OUTER_RING)
    canvas.circle(cx, cy, SEAL_OUTER_RADIUS_PT, stroke=1, fill=0)
    canvas.setLineWidth(_INNER_RING)
    canvas.circle(cx, cy, SEAL_INNER_RADIUS_PT, stroke=1, fill=0)
    canvas.setLineWidth(_RULE)
    for y in (_RULE_OFFSET, -_RULE_OFFSET):
        half = math.sqrt(SEAL_INNER_RADIUS_PT**2 - y**2)  # the rule ends on the thin ring
        canvas.line(cx - half, cy + y, cx + half, cy + y)


def _draw_lines(
    canvas: Canvas, font: str, lines: Sequence[str], size: float, band: tuple[float, float]
) -> None:
    cx, cy = SEAL_CENTRE_PT
    canvas.setLineWidth(_INK * size)
    for line, (bottom, _top) in zip(lines, _line_boxes(len(lines), size, band), strict=True):
        writing = canvas.beginText()
        writing.setFont(font, size)
        writing.setTextRenderMode(2)  # fill, then stroke
        writing.setTextOrigin(cx - _em(line, font) * size / 2, cy + bottom + _DESCENT * size)
        writing.textOut(line)
        canvas.drawText(writing)


# --- fitting text inside the circle ----------------------------------------------------------


def _line_boxes(count: int, size: float, band: tuple[float, float]) -> list[tuple[float, float]]:
    """(bottom, top) of each line's em box, top line first, the block centred in the band;
    heights are measured from the seal's centre."""
    height = size * (1 + (count - 1) * _LINE_PITCH)
    top = (band[0] + band[1] + height) / 2
    return [
        (top - i * size * _LINE_PITCH - size, top - i * size * _LINE_PITCH) for i in range(count)
    ]


def _fits(widths_em: Sequence[float], size: float, band: tuple[float, float]) -> bool:
    """Whether lines this wide (per point of type) stay inside the circle at this size: each
    line is bounded by the chord at the edge of its box farthest from the centre."""
    if size * (1 + (len(widths_em) - 1) * _LINE_PITCH) > band[1] - band[0]:
        return False
    for width, (bottom, top) in zip(
        widths_em, _line_boxes(len(widths_em), size, band), strict=True
    ):
        far = max(abs(bottom), abs(top))
        if far >= _TEXT_RADIUS or width * size > 2 * math.sqrt(_TEXT_RADIUS**2 - far**2):
            return False
    return True


def _largest_size(widths_em: Sequence[float], band: tuple[float, float], largest: float) -> float:
    """The largest type size (to 0.1 pt) that fits, or 0 when not even the smallest does.
    Bisection: a block that fits still fits when smaller."""
    low, high = round(_MIN_TEXT_PT * 10), round(largest * 10)  # in tenths of a point
    if not _fits(widths_em, low / 10, band):
        return 0.0
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(widths_em, middle / 10, band) else (low, middle - 1)
    return low / 10


def _em(line: str, font: str) -> float:
    """The width of a line in ems (its width at 1 pt)."""
    return float(pdfmetrics.stringWidth(line, font, 1))


def _fit_one(line: str, font: str, band: tuple[float, float], largest: float, field: str) -> float:
    size = _largest_size([_em(line, font)], band, largest)
    if not size:
        raise _too_long(field)
    return size


def _too_long(field: str) -> InvalidInput:
    return _invalid(N_("The stamp's {part} is too long to fit the seal."), field)


def _layout_name(name: str, font: str) -> tuple[list[str], float]:
    """The name's lines and type size: of every way to cut it into 1–3 lines, the one with the
    best score (see ``_score``); one more line must score clearly better."""
    best: tuple[list[str], float, float] = ([], 0.0, 0.0)  # lines, size, score
    for count in range(1, min(3, len(name)) + 1):
        scored = [_score(lines, font) for lines in _cuts(name, count)]
        if not scored:
            continue  # every cut would start a line with ー, ッ …
        lines, size, score = max(scored, key=lambda found: found[2])
        if score > best[2] * 1.05:
            best = (lines, size, score)
    if not best[1]:
        raise _too_long("body_name")
    return [line.strip() for line in best[0]], best[1]


def _score(lines: list[str], font: str) -> tuple[list[str], float, float]:
    """The lines, their type size, and a score: the size, counted only up to what reads well
    (larger type does not justify a worse cut), lessened for each cut that splits a word."""
    size = _largest_size([_em(line.strip(), font) for line in lines], _TOP_BAND, _NAME_MAX_PT)
    score = min(size, _READS_WELL_PT)
    for line, following in itertools.pairwise(lines):
        score *= _cut_quality(line[-1], following[0])
    return lines, size, score


def _cut_quality(before: str, after: str) -> float:
    """1 where a body's name divides (after 県, 市, 省, 法人 … or at a space), less inside a
    word: a run of kanji or kana, less still a Latin word. Kana written with kanji are one word
    (霞が関), but katakana or Latin beside kanji are usually two (デジタル庁)."""
    if before in _BREAK_AFTER or before.isspace() or after.isspace():
        return 1.0
    kinds = {_script(before), _script(after)}
    if len(kinds) == 2 and "hiragana" not in kinds:
        return 0.9
    return 0.4 if kinds == {"latin"} else 0.75


def _script(char: str) -> str:
    if "\u30a0" <= char <= "\u30ff":
        return "katakana"
    if "\u3040" <= char <= "\u309f":
        return "hiragana"
    return "latin" if char.isascii() and char.isalnum() else "kanji"


def _cuts(name: str, count: int) -> Iterable[list[str]]:
    """Every way to cut the name into ``count`` lines, no line starting with a small kana,
    a long vowel mark or closing punctuation."""
    for cuts in itertools.combinations(range(1, len(name)), count - 1):
        bounds = (0, *cuts, len(name))
        lines = [name[start:end] for start, end in itertools.pairwise(bounds)]
        if not any(line[0] in _NO_LINE_START for line in lines[1:]):
            yield lines


# --- the QR code and its caption -------------------------------------------------------------


Rectangle = tuple[float, float, float, float]  # x, y, width, height in the stamp's points


def _draw_qr_ground(canvas: Canvas) -> None:
    """The white square under the code, with the margin a reader needs (four modules), kept
    white even over a busy page. It is part of the seal's page, drawn once for many codes, so
    its margin is four modules of a version-3 code (29 modules): a verification address makes
    a code of version 3 or 4, whose modules are smaller."""
    quiet = 4 * _QR_SIDE / QR_SMALLEST_MODULES
    left, top = _QR_CENTRE_X - _QR_SIDE / 2, _QR_TOP
    side = _QR_SIDE + 2 * quiet
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.rect(left - quiet, top - _QR_SIDE - quiet, side, side, stroke=0, fill=1)


def _draw_qr(canvas: Canvas, url: str) -> None:
    """The dark modules as rectangles of one path (no seams show between them)."""
    canvas.setFillColor(HexColor("#000000"))
    path = canvas.beginPath()
    for rectangle in qr_rectangles(url):
        path.rect(*rectangle)
    canvas.drawPath(path, stroke=0, fill=1)


def qr_rectangles(url: str) -> list[Rectangle]:
    """Each row's runs of the code's dark modules."""
    modules = _qr_modules(url)
    module = _QR_SIDE / len(modules)
    left, top = _QR_CENTRE_X - _QR_SIDE / 2, _QR_TOP
    dark = []
    for row_index, row in enumerate(modules):
        y = top - (row_index + 1) * module
        for start, length in _dark_runs(row):
            dark.append((left + start * module, y, length * module, module))
    return dark


def _qr_operators(url: str) -> bytes:
    """The same as PDF content, drawn over the seal's page: stamps differ only in it."""
    shapes = " ".join(_re(rectangle) for rectangle in qr_rectangles(url))
    return f"q 0 g {shapes} f Q".encode("ascii")


def _re(rectangle: Rectangle) -> str:
    x, y, width, height = rectangle
    return f"{x:.3f} {y:.3f} {width:.3f} {height:.3f} re"


SEAL_ONLY = "https://seal.invalid/"  # stands for every address in the cache of seals
QR_SMALLEST_MODULES = 29  # version 3: the white margin is four of its modules
QR_MASK = 0  # any of the eight masks reads; choosing one spares trying all (half the stamp's time)


def _qr_modules(url: str) -> list[list[bool]]:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK
    )
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _dark_runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    runs, column = [], 0
    for dark, group in itertools.groupby(row):
        length = len(list(group))
        if dark:
            runs.append((column, length))
        column += length
    return runs


def _draw_caption(canvas: Canvas, caption: str, font: str) -> None:
    size = min(_CAPTION_MAX_PT, _CAPTION_WIDTH / _em(caption, font))
    if size < _MIN_TEXT_PT:
        raise _too_long("caption")
    canvas.setFillColor(HexColor("#1a1a1a"))
    canvas.setFont(font, size)
    canvas.drawCentredString(_QR_CENTRE_X, _CAPTION_BASELINE, caption)


# --- as pyHanko's stamp ----------------------------------------------------------------------


def stamp_style(text: StampText) -> StaticStampStyle:
    """A pyHanko stamp style showing only the stamp, scaled (keeping its proportions) to fill
    the signature field's box: no border and no text of pyHanko's own."""
    return StaticStampStyle(
        background=_StampPage(_seal_pdf(_without_address(text)), _qr_operators(text.verify_url)),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )


class _StampPage(content.PdfContent):
    """The stamp's page as pyHanko content, read from bytes (``ImportedPdfPage`` wants a file).

    Each rendering starts from fresh resources, so one style may seal many documents in turn
    (not at once: pyHanko sets the writer on the shared background before rendering it)."""

    def __init__(self, pdf: bytes, drawn_over: bytes = b"") -> None:
        width, height = STAMP_SIZE_PT
        super().__init__(box=layout.BoxConstraints(width=width, height=height))
        self._pdf = pdf
        self._drawn_over = drawn_over  # PDF content in the page's points: the QR code

    def render(self) -> bytes:
        self._resources = content.PdfResources()  # type: ignore[no-untyped-call]
        page = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)))
        self._resources.xobject["/MadoguchiStamp"] = page
        return b"/MadoguchiStamp Do " + self._drawn_over
