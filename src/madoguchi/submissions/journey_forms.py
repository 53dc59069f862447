"""Form fields ↔ answers: how a page's questions are named in HTML, and how what is posted becomes
the raw answers the parsers take.

A question's field is named by its id (``email``); a part of it by ``<id>.<part>``
(``address.postal_code``, ``name.family_kana``, ``topics.other``); an item of a repeatable group by
``<group>[<index>].`` before its questions' names (``members[0].member_name.family``), with the
number of items in ``<group>.count``. A file question posts new files as ``<id>.upload`` and keeps
the files already sent as hidden ``<id>.ref`` fields. These names are also the ``field`` of the
parsers' errors, so an error finds its control by name.

``FormValues`` (field name → text, or a list of texts) is what a page shows and what a draft keeps
of a page that did not pass yet. It never holds a My Number as typed: a saved one is shown by its
last four digits (``<id>.last4``) and is replaced only when typed again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from starlette.datastructures import FormData

from madoguchi.procedures.answers import is_empty
from madoguchi.procedures.answers.people import NAME_PARTS
from madoguchi.procedures.answers.places import ADDRESS_PARTS
from madoguchi.procedures.definition import Group, Guidance, Question
from madoguchi.submissions.drafts import FormValues

BANK_PARTS = ("bank", "branch", "type", "number", "holder")
# Fields that are not answers start with "_", which no question id can (see definition.Id).
ACTION = "_action"  # the submit button pressed (journey_parsing.Action)
SHOWN = "_shown"  # the ids of the questions a page showed, posted back to find newly shown ones
NOT_ANSWERS = {"csrf_token", ACTION}
_ITEM = re.compile(r"^(?P<group>.+)\[(?P<index>\d+)\]$")


def parts_of(question: Question) -> tuple[str, ...]:
    """The sub-fields of a question that has several boxes; () for one box."""
    if question.type == "address":
        return ADDRESS_PARTS
    if question.type == "person_name":
        return NAME_PARTS if question.kana else NAME_PARTS[:2]
    if question.type == "bank_account":
        return BANK_PARTS
    return ()


def values_from_form(form: FormData) -> FormValues:
    """The text fields of a posted form (files are taken separately), lists where repeated."""
    values: FormValues = {}
    for name in form:
        if name in NOT_ANSWERS:
            continue
        texts = [value for value in form.getlist(name) if isinstance(value, str)]
        if texts:
            values[name] = (
                texts if len(texts) > 1 or name in (SHOWN,) or name.endswith(".ref") else texts[0]
            )
    return values


def text_of(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value)


def list_of(values: Mapping[str, Any], name: str) -> list[str]:
    value = values.get(name)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


# --- Answers → fields (what a page shows for answers already kept) --------------------------------


def values_from_answers(
    questions: list[Question], answers: Mapping[str, Any], prefix: str = ""
) -> FormValues:
    values: FormValues = {}
    for question in questions:
        value = answers.get(question.id)
        if isinstance(question, Guidance) or value is None:
            continue
        values |= _answer_values(question, value, prefix + question.id)
    return values


def _answer_values(question: Question, value: Any, name: str) -> FormValues:
    kind = question.type
    if isinstance(question, Group):
        items = [item for item in value if isinstance(item, Mapping)]
        values: FormValues = {f"{name}.count": str(len(items))}
        for index, item in enumerate(items):
            values |= values_from_answers(question.questions, item, f"{name}[{index}].")
        return values
    if kind in ("yes_no", "declaration"):
        return {name: "yes" if value is True else "no"}
    if kind == "choice":
        if isinstance(value, Mapping):
            return {name: value.get("value") or "", f"{name}.other": value.get("other") or ""}
        return {name: value}
    if kind == "phone":
        return {name: str(value.get("display", ""))}
    if kind == "my_number":
        return {f"{name}.last4": str(value.get("last4", ""))}
    if kind == "file":
        return {f"{name}.ref": [f"{item['id']}/{item['name']}" for item in value]}
    if kind in ("address", "person_name", "bank_account"):
        return {f"{name}.{part}": text for part, text in _parts_shown(kind, value).items()}
    return {name: str(value)}


def _parts_shown(kind: str, value: Mapping[str, Any]) -> dict[str, str]:
    if kind == "address":
        code = str(value.get("postal_code") or "")
        ward = value.get("ward") or {}
        return {
            "postal_code": f"{code[:3]}-{code[3:]}" if len(code) == 7 else code,
            "prefecture": str(value["prefecture"]["name"]),
            "municipality": str(value["municipality"]["name"]) + str(ward.get("name", "")),
            "town": str(value.get("town") or ""),
            "street": str(value.get("street") or ""),
            "building": str(value.get("building") or ""),
        }
    if kind == "bank_account":
        keys = {"bank": "bank_code", "branch": "branch_code"}
        return {part: str(value.get(keys.get(part, part)) or "") for part in BANK_PARTS}
    return {part: str(value.get(part) or "") for part in NAME_PARTS}


# --- Fields → raw answers (what the parsers take) -------------------------------------------------


def raw_answers(
    questions: list[Question], values: Mapping[str, Any], prefix: str = ""
) -> dict[str, Any]:
    """The raw answer of each question, in the shapes the parsers take; a group's items as a list
    of mappings."""
    raw: dict[str, Any] = {}
    for question in questions:
        if not isinstance(question, Guidance):
            raw[question.id] = raw_answer(question, values, prefix + question.id)
    return raw


def raw_answer(question: Question, values: Mapping[str, Any], name: str) -> Any:
    if isinstance(question, Group):
        return [
            raw_answers(question.questions, values, f"{name}[{index}].")
            for index in range(item_count(question, values, name))
        ]
    parts = parts_of(question)
    if parts:
        return {part: text_of(values, f"{name}.{part}") for part in parts}
    if question.type == "file":
        return list_of(values, f"{name}.ref")
    if question.type == "choice":
        chosen: Any = (
            list_of(values, name) if question.style == "checkboxes" else text_of(values, name)
        )
        return (
            {"value": chosen, "other": text_of(values, f"{name}.other")}
            if question.other
            else chosen
        )
    return text_of(values, name)


def item_count(group: Group, values: Mapping[str, Any], name: str) -> int:
    """How many items a group shows: as posted (within its limits), else its minimum."""
    text = text_of(values, f"{name}.count")
    count = int(text) if text.isascii() and text.isdigit() else group.min_items
    return max(0, min(count, group.max_items))


# --- Finding a question by its field name ---------------------------------------------------------


def question_at(questions: list[Question], name: str) -> Question | None:
    """The question a field name (without a part) is about: ``members[1].member_name``."""
    head, _dot, rest = name.partition("].")
    if rest:
        group = question_at(questions, head + "]")
        return question_at(group.questions, rest) if isinstance(group, Group) else None
    match = _ITEM.match(name)
    wanted = match["group"] if match else name
    found = next((q for q in questions if q.id == wanted and not isinstance(q, Guidance)), None)
    if match and not isinstance(found, Group):
        return None
    return found


def walk_questions(
    questions: list[Question], values: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[Question, str]]:
    """Every question with its field name, the questions of each group item included."""
    for question in questions:
        if isinstance(question, Guidance):
            continue
        name = prefix + question.id
        yield question, name
        if isinstance(question, Group):
            for index in range(item_count(question, values, name)):
                yield from walk_questions(question.questions, values, f"{name}[{index}].")


# --- Changing the fields without leaving the page (buttons that work without JavaScript) ----------


def add_item(group: Group, values: FormValues, name: str) -> None:
    values[f"{name}.count"] = str(min(item_count(group, values, name) + 1, group.max_items))


def remove_item(group: Group, values: FormValues, name: str, index: int) -> None:
    """Remove item ``index`` of a group, moving the later items up one place."""
    count = item_count(group, values, name)
    if not 0 <= index < count:
        return
    moved: FormValues = {}
    for key, value in values.items():
        position = _item_position(key, name)
        if position is None or position < index:
            moved[key] = value
        elif position > index:
            moved[_renumbered(key, name, position, position - 1)] = value
        # the removed item's own fields (position == index) are dropped
    moved[f"{name}.count"] = str(count - 1)
    values.clear()
    values.update(moved)


def _item_position(key: str, name: str) -> int | None:
    start = name + "["
    if not key.startswith(start):
        return None
    digits, bracket, _rest = key[len(start) :].partition("]")
    return int(digits) if bracket and digits.isdigit() else None


def _renumbered(key: str, name: str, old: int, new: int) -> str:
    return f"{name}[{new}]" + key[len(f"{name}[{old}]") :]


def blank_items(questions: list[Question], values: FormValues) -> list[tuple[str, int]]:
    """The group items in which nothing was typed, last first, so each can be removed in turn."""
    blank = []
    for question, name in reversed(list(walk_questions(questions, values))):
        if isinstance(question, Group):
            for index in reversed(range(item_count(question, values, name))):
                item = raw_answers(question.questions, values, f"{name}[{index}].")
                if is_empty(item) and not _has_kept_my_number(values, f"{name}[{index}]."):
                    blank.append((name, index))
    return blank


def _has_kept_my_number(values: FormValues, prefix: str) -> bool:
    return any(key.startswith(prefix) and key.endswith(".last4") for key in values)


def remove_file(values: FormValues, name: str, index: int) -> None:
    refs = list_of(values, f"{name}.ref")
    if 0 <= index < len(refs):
        del refs[index]
        values[f"{name}.ref"] = refs


def without_my_numbers(questions: list[Question], values: FormValues) -> FormValues:
    """The fields to keep in a draft: everything typed except a My Number."""
    numbers = {
        name for question, name in walk_questions(questions, values) if question.type == "my_number"
    }
    return {key: value for key, value in values.items() if key not in numbers}
