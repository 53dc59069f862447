"""Guessing a question from its Excel label: conservative, first matching rule wins.

Rules, in order; a label is matched once its （任意）/（必須） markers and trailing colon are
gone:

==========================  =================  ==========================================
label contains              type               why it comes before the next rules
==========================  =================  ==========================================
生年月日                    date_of_birth      it also contains 年月日
フリガナ, ふりがな, カナ    short_text         "氏名フリガナ" is not a second name
メール, e-mail, email       email
電話, TEL, 携帯, FAX        phone
法人番号                    corporate_number   it also contains 番号
郵便番号, 住所, 所在地      address
氏名, 名前                  person_name
日付, 年月日, ends with 日  date               but not 曜日
金額, 人数, 件数, 数量,     number             whole numbers; 円 or 人 as the unit
回数, ends with 数 or 額
ご意見, 意見, 内容, 理由,   long_text
詳細
anything else               short_text         a tall merged input box makes it long_text
==========================  =================  ==========================================

A data validation is stronger than the label: a list makes a ``choice``, whole/decimal a
``number``, a date a ``date`` (``date_of_birth`` if the label says 生年月日).
"""

from __future__ import annotations

import re
import unicodedata

from madoguchi.procedures.excel.reading import COLONS

OPTIONAL = ("任意",)
MARKERS = re.compile(r"[（(【\[［<＜]\s*(任意|必須)\s*[）)】\]］>＞]|[※*＊]\s*(任意|必須)$")
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("date_of_birth", ("生年月日",)),
    ("short_text", ("フリガナ", "ふりがな", "カナ")),
    ("email", ("メール", "e-mail", "email")),
    ("phone", ("電話", "tel", "携帯", "fax")),
    ("corporate_number", ("法人番号",)),
    ("address", ("郵便番号", "住所", "所在地")),
    ("person_name", ("氏名", "名前")),
    ("date", ("日付", "年月日")),
    ("number", ("金額", "人数", "件数", "数量", "回数")),
    ("long_text", ("ご意見", "意見", "内容", "理由", "詳細")),
)


def clean_label(raw: str) -> tuple[str, bool]:
    """The label without its markers, and whether an answer is required (任意 means optional)."""
    required = not any(word in raw for word in OPTIONAL) or "必須" in raw
    label = MARKERS.sub("", raw).strip()
    while label.endswith(COLONS):
        label = label[:-1].rstrip()
    return label or raw, required


def guess_type(label: str) -> str:
    lowered = unicodedata.normalize("NFKC", label).lower()
    for kind, words in RULES:
        if any(word in lowered for word in words):
            return kind
    if lowered.endswith("日") and not lowered.endswith("曜日"):
        return "date"
    if lowered.endswith(("数", "額")):
        return "number"
    return "short_text"


def unit_of(label: str) -> str | None:
    if "金額" in label or label.endswith("額") or "円" in label:
        return "円"
    if "人数" in label:
        return "人"
    return None


def slugified(text: str, separator: str = "_") -> str | None:
    """A lower-case ASCII id from an English-ish text, or None when the text is not one."""
    ascii_text = unicodedata.normalize("NFKC", text)
    if not ascii_text.isascii():
        return None
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = separator.join(words)[:40].strip(separator)
    return slug if slug[:1].isalpha() and len(slug) >= 2 else None
