"""What an export holds: one column per question (and per part of a composite answer).

Columns come from every published version's definition, newest first, so that a question asked
only in an older version still has its column. A composite answer gets one column per part
(a name's family and given names and readings, an address's parts, a bank account's parts, the
"other" text of a choice); a repeatable group gets numbered columns up to its ``max_items``.
Headers and displayed values (option labels, yes/no) are in the language of the request, taken
when the layout is built, so the rows streamed later need no request context.

Cells hold plain values: text, ``int``, ``Decimal`` (never a float, so amounts stay exact),
dates, or None. A My Number is only ever its masked form, and files are listed by name.
The JSON export keeps the answers' own shapes, keyed by question id (``json_answers``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from madoguchi.core.i18n import N_, _
from madoguchi.procedures.answers.identifiers import mask_my_number
from madoguchi.procedures.definition import (
    Choice,
    Definition,
    Group,
    Guidance,
    PersonName,
    Question,
)
from madoguchi.submissions.display import ACCOUNT_TYPES

Cell = str | int | Decimal | dt.date | None
Extract = Callable[[Any], Cell]
LIST_SEPARATOR = "、"

NAME_PARTS = (
    ("family", N_("family name")),
    ("given", N_("given name")),
    ("family_kana", N_("family name in katakana")),
    ("given_kana", N_("given name in katakana")),
)
ADDRESS_PARTS = (
    ("postal_code", N_("postal code")),
    ("prefecture", N_("prefecture")),
    ("municipality", N_("municipality")),
    ("ward", N_("ward")),
    ("town", N_("town")),
    ("street", N_("block and house number")),
    ("building", N_("building")),
)
BANK_PARTS = (
    ("bank_code", N_("bank code")),
    ("bank_name", N_("bank")),
    ("branch_code", N_("branch code")),
    ("branch_name", N_("branch")),
    ("type", N_("account type")),
    ("number", N_("account number")),
    ("holder", N_("account holder")),
)


@dataclass(frozen=True)
class Column:
    key: str  # stable: the question id, with ``.part`` or ``.n.`` for parts and group items
    header: str
    cell: Callable[[Mapping[str, Any]], Cell]  # from a submission's answers (or computed)
    computed: bool = False


@dataclass(frozen=True)
class Part:
    suffix: str | None
    label: str | None
    extract: Extract


# --- cell values ------------------------------------------------------------------------------


def text(value: Any) -> Cell:
    """A scalar answer as itself; anything of another shape (from an older version) is not it."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return value
    return None


def number(value: Any) -> Cell:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return None


def date(value: Any) -> Cell:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return None


def part_of(key: str, inner: Extract = text) -> Extract:
    def extract(value: Any) -> Cell:
        return inner(value.get(key)) if isinstance(value, Mapping) else None

    return extract


def named(value: Any) -> Cell:
    """A ``{"code", "name"}`` part (prefecture, municipality, ward) by its name."""
    return text(value.get("name")) if isinstance(value, Mapping) else text(value)


def joined(items: Sequence[Any]) -> str | None:
    shown = [str(item) for item in items if item not in (None, "")]
    return LIST_SEPARATOR.join(shown) or None


# --- parts of each question type ----------------------------------------------------------------


def parts_of(question: Question) -> list[Part]:
    """The columns one question contributes (a group's are built by ``_group_columns``)."""
    kind = question.type
    if kind in ("yes_no", "declaration"):
        words = {True: _("Yes"), False: _("No")}
        return [Part(None, None, lambda v: words.get(v) if isinstance(v, bool) else None)]
    if kind == "number":
        return [Part(None, None, number)]
    if kind in ("date", "date_of_birth"):
        return [Part(None, None, date)]
    if kind == "choice":
        assert isinstance(question, Choice)  # noqa: S101 - the type says so
        return _choice_parts(question)
    if kind == "person_name":
        assert isinstance(question, PersonName)  # noqa: S101 - the type says so
        shown = NAME_PARTS if question.kana else NAME_PARTS[:2]
        return [Part(key, _(label), part_of(key)) for key, label in shown]
    if kind == "address":
        return [
            Part(key, _(label), part_of(key, named if key != "postal_code" else text))
            for key, label in ADDRESS_PARTS
        ]
    if kind == "bank_account":
        return _bank_parts()
    return [Part(None, None, _SINGLE.get(kind, text))]


def _phone(value: Any) -> Cell:
    return text(value.get("display")) if isinstance(value, Mapping) else None


def masked_my_number(value: Any) -> Cell:
    """The masked form only: the token is never decrypted for an export."""
    last4 = value.get("last4") if isinstance(value, Mapping) else None
    return mask_my_number(last4) if isinstance(last4, str) else None


def _files(value: Any) -> Cell:
    if not isinstance(value, list):
        return None
    return joined([item.get("name") for item in value if isinstance(item, Mapping)])


_SINGLE: dict[str, Extract] = {"phone": _phone, "my_number": masked_my_number, "file": _files}


def _choice_parts(question: Choice) -> list[Part]:
    labels = {option.value: str(option.label) for option in question.options}
    labels["other"] = _("Other")

    def shown(value: Any) -> Cell:
        if isinstance(value, Mapping):
            value = value.get("value")
        if isinstance(value, list):
            return joined([labels.get(str(item), item) for item in value])
        return labels.get(value, value) if isinstance(value, str) else None

    parts = [Part(None, None, shown)]
    if question.other:
        parts.append(Part("other", _("other"), part_of("other")))
    return parts


def _bank_parts() -> list[Part]:
    types = {key: _(label) for key, label in ACCOUNT_TYPES.items()}

    def account_type(value: Any) -> Cell:
        return types.get(value, value) if isinstance(value, str) else None

    return [
        Part(key, _(label), part_of(key, account_type if key == "type" else text))
        for key, label in BANK_PARTS
    ]


# --- columns of a whole definition ------------------------------------------------------------


def columns_of(definitions: Sequence[Definition]) -> list[Column]:
    """Every question's columns over ``definitions`` (newest first), each key once, then the
    computed values. Call it where the request's language is set."""
    answers: dict[str, Column] = {}
    computed: dict[str, Column] = {}
    for definition in definitions:
        for question in _asked(definition):
            for column in _columns(question):
                answers.setdefault(column.key, column)
        for value in definition.computed:
            computed.setdefault(value.id, _computed_column(value.id, str(value.label)))
    return [*answers.values(), *computed.values()]


def _asked(definition: Definition) -> list[Question]:
    return [
        question
        for page in definition.pages
        for question in page.questions
        if not isinstance(question, Guidance)
    ]


def _columns(question: Question) -> list[Column]:
    if isinstance(question, Guidance):
        return []
    if isinstance(question, Group):
        return _group_columns(question)
    label = str(question.label)
    return [_column(question.id, label, part) for part in parts_of(question)]


def _column(question_id: str, label: str, part: Part) -> Column:
    key = question_id if part.suffix is None else f"{question_id}.{part.suffix}"
    header = label if part.label is None else _("{label} ({part})", label=label, part=part.label)

    def cell(answers: Mapping[str, Any]) -> Cell:
        return part.extract(answers.get(question_id))

    return Column(key, header, cell)


def _group_columns(group: Group) -> list[Column]:
    """``max_items`` numbered sets of the group's own questions' columns."""
    inner = [
        column
        for question in group.questions
        if not isinstance(question, Guidance | Group)
        for column in _columns(question)
    ]
    label = str(group.label)
    return [
        _item_column(group.id, label, number, column)
        for number in range(1, group.max_items + 1)
        for column in inner
    ]


def _item_column(group_id: str, label: str, number: int, inner: Column) -> Column:
    index = number - 1

    def cell(answers: Mapping[str, Any]) -> Cell:
        items = answers.get(group_id)
        if not isinstance(items, list) or index >= len(items):
            return None
        item = items[index]
        return inner.cell(item) if isinstance(item, Mapping) else None

    header = _("{group} {number}: {question}", group=label, number=number, question=inner.header)
    return Column(f"{group_id}.{number}.{inner.key}", header, cell)


def _computed_column(computed_id: str, label: str) -> Column:
    def cell(values: Mapping[str, Any]) -> Cell:
        return number(values.get(computed_id))

    return Column(computed_id, label, cell, computed=True)


# --- JSON: the answers' own shapes, without secrets -------------------------------------------


def questions_by_id(definitions: Sequence[Definition]) -> dict[str, Question]:
    """Each question id's newest question, for the JSON export."""
    found: dict[str, Question] = {}
    for definition in definitions:
        for question in _asked(definition):
            found.setdefault(question.id, question)
    return found


def json_answers(questions: Mapping[str, Question], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers keyed by question id as stored, except: a My Number masked, files by name, and
    nothing for an id no version asks (so nothing unknown can slip out)."""
    shown: dict[str, Any] = {}
    for key, value in answers.items():
        question = questions.get(key)
        if question is not None:
            shown[key] = _json_value(question, value)
    return shown


def _json_value(question: Question, value: Any) -> Any:
    if question.type == "my_number":
        return masked_my_number(value)
    if question.type == "file":
        items = value if isinstance(value, list) else []
        return [item.get("name") for item in items if isinstance(item, Mapping)]
    if isinstance(question, Group) and isinstance(value, list):
        inner = {q.id: q for q in question.questions if not isinstance(q, Guidance)}
        return [json_answers(inner, item) for item in value if isinstance(item, Mapping)]
    return value
