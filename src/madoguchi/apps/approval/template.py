"""A document drafted from the template: title, addressee and text, set on A4 in Japanese.

Drawn with reportlab in the platform's embedded Japanese TrueType font (the one seals use), as
a 起案文書 is laid out: the date (in the Japanese era) and the body top right, the addressee
left, the title centred, then the text, wrapped by width (Japanese has no spaces to break at).
The foot of every page is left empty, where the body's seal goes on the last one.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_
from madoguchi.core.wareki import format_wareki
from madoguchi.signatures import service as signatures

MARGIN = 25 * mm
FOOT = 55 * mm  # kept clear for the seal: 15 mm margin, 30 mm stamp, and some air
TEXT_SIZE, TITLE_SIZE, LEADING = 10.5, 16.0, 1.7
LIMITS = {"title": 100, "addressee": 100, "text": 10_000}
NO_LINE_START = set("、。，．・：；？！ー」』）〕］｝〉》”’ぁぃぅぇぉっゃゅょァィゥェォッャュョ")


@dataclass(frozen=True)
class Draft:
    """What the template asks: every field as typed, checked by ``check_draft``."""

    title: str
    addressee: str
    text: str


def check_draft(title: str, addressee: str, text: str) -> Draft:
    """The fields, trimmed; InvalidInput naming the field when one is empty or too long."""
    draft = Draft(title.strip(), addressee.strip(), text.replace("\r\n", "\n").strip())
    for field in ("title", "text"):
        if not getattr(draft, field):
            raise InvalidInput(_EMPTY[field], field=field)
    for field, most in LIMITS.items():
        if len(getattr(draft, field)) > most:
            raise InvalidInput(N_("Enter at most {most} characters."), field=field, most=most)
    return draft


_EMPTY = {"title": N_("Enter the document's title."), "text": N_("Enter the document's text.")}


def document_pdf(draft: Draft, body_name: str, date: dt.date) -> bytes:
    """The draft as a PDF of one or more A4 pages, its font embedded."""
    font = signatures.japanese_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(draft.title)
    canvas.setAuthor(body_name)
    width, height = A4
    y = _heading(canvas, font, draft, body_name, date)
    for line in _lines(draft.text, font, width - 2 * MARGIN):
        if y < FOOT:
            canvas.showPage()
            y = height - MARGIN
        canvas.setFont(font, TEXT_SIZE)
        canvas.drawString(MARGIN, y, line)
        y -= TEXT_SIZE * LEADING
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _heading(canvas: Canvas, font: str, draft: Draft, body_name: str, date: dt.date) -> float:
    """Date, body, addressee and title; returns where the text starts."""
    width, height = A4
    y = height - MARGIN
    canvas.setFont(font, TEXT_SIZE)
    for text in (format_wareki(date), body_name):
        canvas.drawRightString(width - MARGIN, y, text)
        y -= TEXT_SIZE * LEADING
    if draft.addressee:
        canvas.drawString(MARGIN, y, draft.addressee)
        y -= TEXT_SIZE * LEADING
    y -= TITLE_SIZE
    for line in _wrapped(draft.title, font, TITLE_SIZE, width - 2 * MARGIN):
        canvas.setFont(font, TITLE_SIZE)
        canvas.drawCentredString(width / 2, y, line)
        y -= TITLE_SIZE * LEADING
    return float(y - TEXT_SIZE)


def _lines(text: str, font: str, width: float) -> Iterator[str]:
    for paragraph in text.split("\n"):
        yield from _wrapped(paragraph, font, TEXT_SIZE, width) if paragraph.strip() else [""]


def _wrapped(paragraph: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than ``width``; a closing mark or small kana never starts one (禁則)."""
    lines, line = [], ""
    for char in paragraph:
        if line and stringWidth(line + char, font, size) > width and char not in NO_LINE_START:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines
