"""Answers as an official's Excel template shows them: one readable Japanese value per cell.

``fill_template`` writes one value per input cell, so composite answers are written the way a
person would fill in the paper form: a name as 山田 花子, an address on one line with its postal
mark, a bank account as bank, branch, type, number and holder. Choices show their Japanese
labels. A My Number is only ever its masked form, and files are listed by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from madoguchi.procedures.definition import Choice, Group, Guidance, Question
from madoguchi.submissions.export_columns import joined, masked_my_number

ACCOUNT_TYPES_JA = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}


def template_answers(
    questions: Mapping[str, Question], answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Each answer by question id, as its template cell should show it."""
    return {
        key: _shown(questions[key], value)
        for key, value in answers.items()
        if key in questions and value is not None
    }


def _shown(question: Question, value: Any) -> Any:
    if isinstance(question, Group):
        inner = {q.id: q for q in question.questions if not isinstance(q, Guidance)}
        items = value if isinstance(value, list) else []
        return [template_answers(inner, item) for item in items if isinstance(item, Mapping)]
    if isinstance(question, Choice):
        return _choice(question, value)
    if question.type == "file":
        return _files(value) if isinstance(value, list) else None
    shape = _SHAPES.get(question.type)
    if shape is None:
        return value
    return shape(value) if isinstance(value, Mapping) else None


def _choice(question: Choice, value: Any) -> Any:
    labels = {option.value: option.label.ja for option in question.options}
    other = None
    if isinstance(value, Mapping):
        value, other = value.get("value"), value.get("other")
    chosen = value if isinstance(value, list) else [value]
    shown = [other if item == "other" and other else labels.get(item, item) for item in chosen]
    return shown if isinstance(value, list) else shown[0]


def _name(value: Any) -> Any:
    return " ".join(part for part in (value.get("family"), value.get("given")) if part)


def _named(part: Any) -> str:
    return str(part.get("name") or "") if isinstance(part, Mapping) else str(part or "")


def _address(value: Any) -> Any:
    place = "".join(
        _named(value.get(key)) for key in ("prefecture", "municipality", "ward", "town", "street")
    )
    building = value.get("building") or ""
    postal = value.get("postal_code")
    return " ".join(part for part in (f"〒{postal}" if postal else "", place, building) if part)


def _bank(value: Any) -> Any:
    kind = ACCOUNT_TYPES_JA.get(value.get("type"), value.get("type"))
    parts = (value.get("bank_name"), value.get("branch_name"), kind, value.get("number"))
    return " ".join(str(part) for part in (*parts, value.get("holder")) if part)


def _phone(value: Any) -> Any:
    return value.get("display")


def _files(value: Any) -> Any:
    return joined([item.get("name") for item in value if isinstance(item, Mapping)])


_SHAPES = {
    "person_name": _name,
    "address": _address,
    "bank_account": _bank,
    "phone": _phone,
    "my_number": masked_my_number,
}
