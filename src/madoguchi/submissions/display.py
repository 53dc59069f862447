"""Answers as a person reads them, in the current language: for check-your-answers, receipts and
officials' views.

``answer_text`` turns one typed answer (as the parsers store it) into one line of text;
``answer_rows`` lists a whole submission in the definition's order, a repeatable group item by
item, and the computed values last. A My Number is only ever shown masked. Hidden questions have
no answers, so they have no rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from madoguchi.core.i18n import N_, _, current_language, ngettext
from madoguchi.core.wareki import format_date
from madoguchi.procedures.answers.identifiers import mask_my_number
from madoguchi.procedures.definition import Definition, Group, Guidance, Question
from madoguchi.tenants.service import find_local_government

# Translated into Japanese as banks print them: 普通, 当座, 貯蓄.
ACCOUNT_TYPES = {"ordinary": N_("Ordinary"), "current": N_("Current"), "savings": N_("Savings")}
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
_ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,.']+[A-Za-z]{2,})+")
KILOBYTE = 1024


@dataclass(frozen=True)
class AnswerRow:
    """One answer as shown: its question's label and the answer's text.

    A repeatable group's row has ``items``: each item's own rows. A computed value's row has no
    ``page_id``. ``answered`` is False for a question shown but left unanswered.
    """

    label: str
    text: str
    page_id: str | None
    question_id: str
    items: list[list[AnswerRow]] = field(default_factory=list)
    answered: bool = True

    @property
    def text_language(self) -> str | None:
        return text_language(self.text)

    @property
    def label_language(self) -> str | None:
        return text_language(self.label)


def text_language(text: str) -> str | None:
    """The language a piece of text people typed is most likely in ("ja", "en"), or None."""
    if _JAPANESE.search(text):
        return "ja"
    return "en" if _ENGLISH_PHRASE.search(text) else None


def answer_rows(
    definition: Definition,
    answers: Mapping[str, Any],
    computed: Mapping[str, Any],
    *,
    shown: Collection[str] | None = None,
) -> list[AnswerRow]:
    """Every answer in the definition's order, then the computed values with their labels.

    With ``shown`` (the ids of the questions shown on the applicant's path), a shown question
    left unanswered gets a row too, so that it can be changed.
    """
    rows: list[AnswerRow] = []
    for page in definition.pages:
        for question in page.questions:
            row = _row(question, answers, page.id, shown)
            if row is not None:
                rows.append(row)
    for formula in definition.computed:
        if formula.id in computed:
            rows.append(
                AnswerRow(str(formula.label), _number_text(computed[formula.id]), None, formula.id)
            )
    return rows


def _row(
    question: Question, answers: Mapping[str, Any], page_id: str, shown: Collection[str] | None
) -> AnswerRow | None:
    if isinstance(question, Guidance):
        return None
    value = answers.get(question.id)
    if value is None:
        if shown is not None and question.id in shown:
            label = str(question.label)
            return AnswerRow(label, _("Not answered"), page_id, question.id, answered=False)
        return None
    if isinstance(question, Group):
        items = [_item_rows(question, item, page_id) for item in _items(value)]
        text = ngettext("{n} item", "{n} items", len(items))
        return AnswerRow(str(question.label), text, page_id, question.id, items)
    return AnswerRow(str(question.label), answer_text(question, value), page_id, question.id)


def _item_rows(group: Group, item: Mapping[str, Any], page_id: str) -> list[AnswerRow]:
    return [row for q in group.questions if (row := _row(q, item, page_id, None)) is not None]


def answer_text(question: Question, value: Any) -> str:
    """One typed answer as a person reads it, in the current language."""
    if value is None:
        return _("Not answered")
    show = _SHOW.get(question.type)
    if show is None:
        return str(value)
    return show(question, value)


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _text(_question: Any, value: Any) -> str:
    return str(value)


def _number(question: Any, value: Any) -> str:
    text = _number_text(value)
    return f"{text} {question.unit}" if question.unit else text


def _number_text(value: Any) -> str:
    """1,234,567 or 1,234.50: thousands separated, decimals exactly as stored."""
    if isinstance(value, bool):
        return str(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    whole, _dot, fraction = str(value).lstrip("-").partition(".")
    sign = "-" if number < 0 else ""
    grouped = f"{int(whole or 0):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"


def _date(_question: Any, value: Any) -> str:
    try:
        return format_date(dt.date.fromisoformat(str(value)), current_language())
    except ValueError:
        return str(value)


def _choice(question: Any, value: Any) -> str:
    labels = {option.value: str(option.label) for option in question.options}
    other = None
    if isinstance(value, Mapping):
        value, other = value.get("value"), value.get("other")
    chosen = value if isinstance(value, list) else [value] if value else []
    shown = [
        _("Other: {text}", text=other) if item == "other" and question.other
        else labels.get(str(item), str(item))
        for item in chosen
    ]  # fmt: skip
    return _joined(shown)


def _joined(parts: list[str]) -> str:
    return ("、" if current_language() == "ja" else ", ").join(parts)


def _yes_no(_question: Any, value: Any) -> str:
    return _("Yes") if value is True else _("No")


def _phone(_question: Any, value: Any) -> str:
    return (
        str(value.get("display") or value.get("e164")) if isinstance(value, Mapping) else str(value)
    )


def _address(_question: Any, value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    code = str(value.get("postal_code") or "")
    place = "".join(
        _name_of(value.get(part)) for part in ("prefecture", "municipality", "ward")
    ) + str(value.get("town") or "")
    parts = [f"〒{code[:3]}-{code[3:]}" if len(code) == 7 else code, place]
    parts += [str(value.get(part) or "") for part in ("street", "building")]
    return " ".join(part for part in parts if part)


def _name_of(part: Any) -> str:
    if isinstance(part, Mapping):
        return str(part.get("name") or "")
    return str(part or "")


def person_name_text(value: Mapping[str, Any]) -> str:
    """山田 花子（ヤマダ ハナコ）: the name, and its reading in brackets when there is one."""
    name = " ".join(str(value[p]) for p in ("family", "given") if value.get(p))
    reading = " ".join(str(value[p]) for p in ("family_kana", "given_kana") if value.get(p))
    return f"{name}（{reading}）" if reading else name


def _person_name(_question: Any, value: Any) -> str:
    return person_name_text(value) if isinstance(value, Mapping) else str(value)


def _my_number(_question: Any, value: Any) -> str:
    last4 = value.get("last4") if isinstance(value, Mapping) else None
    try:
        return mask_my_number(str(last4))
    except ValueError:  # never show anything of a value that is not as the parser stores it
        return "●●●● ●●●● ●●●●"


def _bank_account(_question: Any, value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    kind = ACCOUNT_TYPES.get(str(value.get("type")))
    parts = [
        str(value.get("bank_name") or value.get("bank_code") or ""),
        str(value.get("branch_name") or value.get("branch_code") or ""),
        _(kind) if kind else str(value.get("type") or ""),
        str(value.get("number") or ""),
        str(value.get("holder") or ""),
    ]
    return " ".join(part for part in parts if part)


def file_size_text(size: int) -> str:
    """12 KB, 1.5 MB: how big a file is, rounded up so a tiny file is never "0 KB"."""
    if size < KILOBYTE * KILOBYTE:
        return f"{max(1, -(-size // KILOBYTE))} KB"
    return f"{size / (KILOBYTE * KILOBYTE):.1f} MB"


def _files(_question: Any, value: Any) -> str:
    files = value if isinstance(value, list) else []
    return _joined(
        [f"{item.get('name')} ({file_size_text(int(item.get('size') or 0))})" for item in files]
    )


def _declaration(_question: Any, value: Any) -> str:
    return _("Confirmed") if value is True else _("Not confirmed")


def _local_government(_question: Any, value: Any) -> str:
    body = find_local_government(str(value))
    return f"{body.name} ({body.code})" if body else str(value)


def _group(question: Any, value: Any) -> str:
    """A group in one line: its items numbered, each item's answers joined."""
    texts = []
    for number, item in enumerate(_items(value), start=1):
        parts = [
            answer_text(q, item[q.id])
            for q in question.questions
            if not isinstance(q, Guidance) and item.get(q.id) is not None
        ]
        texts.append(f"{number}. {' / '.join(parts)}")
    return "; ".join(texts)


_SHOW: dict[str, Callable[[Any, Any], str]] = {
    "short_text": _text,
    "long_text": _text,
    "email": _text,
    "corporate_number": _text,
    "number": _number,
    "date": _date,
    "date_of_birth": _date,
    "choice": _choice,
    "yes_no": _yes_no,
    "phone": _phone,
    "address": _address,
    "person_name": _person_name,
    "my_number": _my_number,
    "bank_account": _bank_account,
    "file": _files,
    "declaration": _declaration,
    "local_government": _local_government,
    "group": _group,
}
