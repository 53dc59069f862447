"""The PDF receipt of a submission: A4, in Japanese, with English labels beside the Japanese ones
when the applicant used English.

It shows the public body, the procedure, the reference number, when it was submitted (in Japan,
with the Japanese era), every answer as ``display.answer_rows`` shows it (a My Number masked),
the computed values, and the confirmation message. Each answer is a label and a paragraph, not a
table cell, so an answer longer than a page simply continues on the next. Japanese has no spaces
between words: paragraphs wrap by width, character by character (reportlab's CJK wrapping).
Every page carries the reference and "page n of N".

The font is IPAex Gothic (or another IPA TrueType font) embedded as a subset, so the receipt
reads the same everywhere; when none is installed the built-in CID font HeiseiKakuGo-W5 is used,
which PDF readers must supply themselves, and a warning is logged once. The output is built
with reportlab's ``invariant`` mode (no creation time or random document id): the same
submission gives the same bytes. The last page leaves room at its foot for the seal
(``signatures.service.STAMP_SPACE_PT``), which receipt_pages adds on the first download.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import HexColor  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFError, TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Flowable,
    HRFlowable,
    Paragraph,
    SimpleDocTemplate,
)

from madoguchi.core.clock import format_moment
from madoguchi.core.i18n import N_, Language, set_language, translations
from madoguchi.procedures.definition import Definition, LocalText
from madoguchi.signatures.service import STAMP_SPACE_PT
from madoguchi.submissions.display import AnswerRow, answer_rows
from madoguchi.submissions.models import Submission

logger = logging.getLogger(__name__)

FONT_NAME = "IPAexGothic"
FALLBACK_FONT = "HeiseiKakuGo-W5"
FONT_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/local/share/fonts/ipaexg.ttf",
    "/Library/Fonts/ipaexg.ttf",
)
MARGIN = 20 * mm
BOTTOM_MARGIN = MARGIN + 5 * mm
INK = HexColor("#1a1a1a")
MUTED = HexColor("#4d4d4d")


@dataclass(frozen=True)
class ReceiptFor:
    """What the receipt is about besides the submission: who received it, under which rules."""

    body_name: str
    body_name_en: str | None
    definition: Definition
    signer_name: str | None = None  # the card's holder, when the applicant signed


def receipt_pdf(submission: Submission, about: ReceiptFor) -> bytes:
    """The receipt's PDF bytes."""
    font = receipt_font()
    english = submission.language == "en"
    styles = _Styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=BOTTOM_MARGIN,
        title=f"{_said(N_('Receipt'), 'ja')} {submission.reference}",
        author=about.body_name,
        subject=about.definition.title.ja,
        creator="madoguchi",
        lang="ja-JP",
        invariant=True,
    )
    story = _story(submission, about, styles, english)
    footer = _Footer(font, submission.reference, english)
    document.build(story, canvasmaker=footer.canvas)
    return buffer.getvalue()


def receipt_title(submission: Submission, definition: Definition) -> str:
    """What the sealed receipt is called where anyone may read it (the verification page):
    the procedure and the reference, nothing of the answers."""
    return f"{_said(N_('Receipt'), 'ja')} {definition.title.ja} {submission.reference}"


@cache
def receipt_font() -> str:
    """The name of the font registered for receipts: an embedded IPA TrueType font if one is
    installed, else the non-embedded CID font (with a warning, once per process)."""
    for candidate in FONT_PATHS:
        path = Path(candidate)
        if not path.is_file():
            continue
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path)))
        except TTFError:
            continue  # e.g. an OpenType (CFF) font behind the alternatives link
        return FONT_NAME
    logger.warning(
        "No IPA TrueType font found (install fonts-ipaexfont-gothic): PDF receipts use "
        "%s, which is not embedded, so readers must supply a Japanese font.",
        FALLBACK_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


# --- text in a given language ---------------------------------------------------------------


def _said(message: str, language: Language) -> str:
    return translations(language).gettext(message)


def _both(message: str, english: bool) -> str:
    """The Japanese label, and the English one after it for an applicant who used English."""
    japanese = _said(message, "ja")
    return _paired(japanese, _said(message, "en") if english else None)


def _paired(japanese: str, english: str | None) -> str:
    return f"{japanese} / {english}" if english and english != japanese else japanese


def _in_language(language: Language, work: Callable[[], Any]) -> Any:
    """``work`` with ``language`` as the current one, without changing the caller's."""

    def run() -> Any:
        set_language(language)
        return work()

    return contextvars.copy_context().run(run)


def _rows(definition: Definition, submission: Submission, language: Language) -> list[AnswerRow]:
    rows = _in_language(
        language, lambda: answer_rows(definition, submission.answers, submission.computed)
    )
    assert isinstance(rows, list)  # noqa: S101 - answer_rows returns a list
    return rows


def _local(text: LocalText | None, english: bool, separator: str = " / ") -> str | None:
    if text is None:
        return None
    if english and text.en:
        return f"{text.ja}{separator}{text.en}"
    return text.ja


def submitted_text(moment: dt.datetime) -> str:
    """``2026年11月28日 (令和8年) 13:05``: the time in Japan."""
    return format_moment(moment, "ja")


# --- layout -----------------------------------------------------------------------------------


class _Styles:
    def __init__(self, font: str) -> None:
        base = ParagraphStyle(
            "base", fontName=font, fontSize=10.5, leading=16, textColor=INK, wordWrap="CJK"
        )
        self.title = ParagraphStyle("title", base, fontSize=18, leading=26, spaceAfter=4 * mm)
        self.heading = ParagraphStyle(
            "heading", base, fontSize=13, leading=20, spaceBefore=5 * mm, spaceAfter=2 * mm
        )
        self.label = ParagraphStyle(
            "label", base, fontSize=9.5, leading=14, textColor=MUTED, spaceBefore=2.5 * mm
        )
        self.answer = ParagraphStyle("answer", base, leftIndent=4 * mm)
        self.item = ParagraphStyle("item", base, leftIndent=4 * mm, spaceBefore=1.5 * mm)
        self.body = base


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """Text as typed, safe as markup: escaped, its line breaks kept."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _story(
    submission: Submission, about: ReceiptFor, styles: _Styles, english: bool
) -> list[Flowable]:
    definition = about.definition
    story: list[Flowable] = [
        _paragraph(_both(N_("Receipt"), english), styles.title),
        _paragraph(_paired(about.body_name, about.body_name_en if english else None), styles.body),
        _paragraph(_local(definition.title, english) or "", styles.heading),
        HRFlowable(width="100%", color=MUTED, spaceBefore=1 * mm, spaceAfter=1 * mm),
    ]
    story += _labelled(_both(N_("Reference number"), english), submission.reference, styles)
    story += _labelled(
        _both(N_("Submitted at"), english), submitted_text(submission.submitted_at), styles
    )
    if about.signer_name and submission.signed_at:
        story += _labelled(_both(N_("Signature"), english), _signed(about, submission), styles)
    story.append(_paragraph(_both(N_("Your answers"), english), styles.heading))
    japanese = _rows(definition, submission, "ja")
    labels = _rows(definition, submission, "en") if english else None
    story += _answer_flowables(japanese, labels, styles)
    story.append(_paragraph(_both(N_("What happens next"), english), styles.heading))
    story.append(_paragraph(_local(definition.confirmation, english, "\n") or "", styles.body))
    if definition.contact is not None:
        contact = _local(definition.contact, english, "\n")
        story += _labelled(_both(N_("Contact"), english), contact, styles)
    story.append(CondPageBreak(STAMP_SPACE_PT - BOTTOM_MARGIN))  # room for the seal
    return story


def _signed(about: ReceiptFor, submission: Submission) -> str:
    """How the applicant signed, in Japanese: the receipt's text is Japanese whatever the
    language of its labels."""
    assert submission.signed_at is not None  # noqa: S101 - the caller checked
    message = N_("Signed with the My Number card by {name} on {when}")
    when = submitted_text(submission.signed_at)
    return _said(message, "ja").format(name=about.signer_name, when=when)


def _labelled(label: str, text: str | None, styles: _Styles) -> list[Flowable]:
    return [_paragraph(label, styles.label), _paragraph(text or "", styles.answer)]


def _answer_flowables(
    rows: Sequence[AnswerRow], english: Sequence[AnswerRow] | None, styles: _Styles
) -> list[Flowable]:
    flowables: list[Flowable] = []
    for index, row in enumerate(rows):
        other = english[index] if english is not None and index < len(english) else None
        label = _paired(row.label, other.label if other else None)
        if not row.items:
            flowables += _labelled(label, row.text, styles)
            continue
        flowables.append(_paragraph(label, styles.label))
        for number, item in enumerate(row.items, start=1):
            item_english = other.items[number - 1] if other and len(other.items) >= number else None
            flowables.append(_paragraph(f"{number}.", styles.item))
            flowables += _answer_flowables(item, item_english, styles)
    return flowables


class _Footer:
    """Draws the reference and "page n of N" on every page, once the page count is known."""

    def __init__(self, font: str, reference: str, english: bool) -> None:
        self.font = font
        self.reference = reference
        self.english = english

    def canvas(self, *args: Any, **kwargs: Any) -> Canvas:
        footer = self

        class NumberedCanvas(Canvas):  # type: ignore[misc]
            def __init__(self, *a: Any, **k: Any) -> None:
                super().__init__(*a, **k)
                self._pages: list[dict[str, Any]] = []

            def showPage(self) -> None:  # noqa: N802 - reportlab's name
                self._pages.append(dict(self.__dict__))
                self._startPage()

            def save(self) -> None:
                for number, state in enumerate(self._pages, start=1):
                    self.__dict__.update(state)
                    footer.draw(self, number, len(self._pages))
                    super().showPage()
                super().save()

        # the first font a canvas sets is its own default: make it ours, so nothing is unembedded
        return NumberedCanvas(*args, **{**kwargs, "initialFontName": self.font})

    def draw(self, canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFont(self.font, 8.5)
        canvas.setFillColor(MUTED)
        width, _height = A4
        canvas.drawString(
            MARGIN,
            MARGIN - 2 * mm,
            f"{_both(N_('Reference number'), self.english)}: {self.reference}",
        )
        page = f"{number} / {total}"
        canvas.drawRightString(width - MARGIN, MARGIN - 2 * mm, page)
        canvas.restoreState()
