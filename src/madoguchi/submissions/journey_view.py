"""What a question page's template reads: the fields' values, each field's error, the error
summary with links to the controls, the items of each group and the files already attached."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.files import CorruptFile, FileStore
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import _
from madoguchi.procedures.answers.identifiers import mask_my_number
from madoguchi.procedures.definition import Group, Guidance, Question
from madoguchi.procedures.logic import visible_questions
from madoguchi.submissions.display import file_size_text
from madoguchi.submissions.drafts import FormValues
from madoguchi.submissions.journey_forms import (
    SHOWN,
    item_count,
    list_of,
    parts_of,
    question_at,
    text_of,
)

ACCOUNT_TYPE_CHOICES = ("ordinary", "current", "savings")


@dataclass(frozen=True)
class FileShown:
    ref: str
    name: str
    size: str


@dataclass
class FormState:
    """The fields of one page as the template shows them."""

    values: FormValues
    store: FileStore
    inline: dict[str, str] = field(default_factory=dict)
    towns: dict[str, list[str]] = field(default_factory=dict)
    items: dict[str, list[Question]] = field(default_factory=dict)  # "members[0]" → shown

    @property
    def shown(self) -> list[str]:
        """The ids of the questions on the page, posted back to tell which ones are new."""
        return list_of(self.values, SHOWN)

    def value(self, name: str) -> str:
        return text_of(self.values, name)

    def checked(self, name: str, option: str) -> bool:
        return option in list_of(self.values, name)

    def error(self, name: str) -> str | None:
        return self.inline.get(name)

    def count(self, group: Group, name: str) -> int:
        return item_count(group, self.values, name)

    def item_questions(self, group: Group, item_name: str) -> list[Question]:
        return self.items.get(item_name, [q for q in group.questions if q.show_if is None])

    def masked_my_number(self, name: str) -> str | None:
        last4 = self.value(f"{name}.last4")
        try:
            return mask_my_number(last4) if last4 else None
        except ValueError:
            return None

    def files(self, name: str) -> list[FileShown]:
        shown = []
        for ref in list_of(self.values, f"{name}.ref"):
            file_id, _slash, file_name = ref.partition("/")
            try:
                size = file_size_text(self.store.info(file_id).size)
            except (ValueError, CorruptFile, NotFound):  # checked again when the page is sent
                size = ""
            shown.append(FileShown(ref, file_name or file_id[:12], size))
        return shown


def item_visibility(
    questions: list[Question], preview: Mapping[str, Any], outer: Mapping[str, Any]
) -> dict[str, list[Question]]:
    """The questions shown in each group item, decided on that item's answers and the page's."""
    shown: dict[str, list[Question]] = {}
    for question in questions:
        if isinstance(question, Group):
            items = preview.get(question.id)
            for index, item in enumerate(items if isinstance(items, list) else []):
                answers = item if isinstance(item, Mapping) else {}
                shown[f"{question.id}[{index}]"] = visible_questions(question, {**outer, **answers})
    return shown


# --- Errors ---------------------------------------------------------------------------------------


@dataclass
class PageErrors:
    summary: FormErrors
    inline: dict[str, str]


def page_errors(questions: list[Question], problems: list[InvalidInput]) -> PageErrors:
    """The summary (each entry names its question and links to its control) and the messages
    shown beside the fields, in the order of the questions on the page."""
    order = {question.id: index for index, question in enumerate(questions)}
    summary, inline = FormErrors(), dict[str, str]()
    for problem in sorted(problems, key=lambda p: order.get(_top(p.field or ""), len(order))):
        message = _(problem.message, **problem.params)
        name = problem.field or ""
        inline.setdefault(name, message)
        question, base = question_for_field(questions, name)
        label = field_label(questions, base) if question else ""
        text = _("{label}: {problem}", label=label, problem=message) if label else message
        summary.items.append(FormError(text, name, "#" + anchor(question, base, name)))
    return PageErrors(summary, inline)


def _top(name: str) -> str:
    return name.split(".")[0].split("[")[0]


def question_for_field(questions: list[Question], name: str) -> tuple[Question | None, str]:
    """The question a field belongs to, and that question's own field name (without the part)."""
    base = name
    while base:
        found = question_at(questions, base)
        if found is not None:
            return found, base
        base = base.rpartition(".")[0]
    return None, name


def anchor(question: Question | None, base: str, name: str) -> str:
    """The id of the control an error links to: a part's own box, or a question's first box."""
    if question is None:
        return name
    parts = parts_of(question)
    if parts and name == base:
        return f"{base}.{parts[0]}"
    if name != base and name.removeprefix(base + ".") not in (*parts, "other"):
        return base
    return name


def field_label(questions: list[Question], base: str) -> str:
    """``Household members 2 – Name``: a question's label, with the item it is in."""
    head, bracket, rest = base.partition("].")
    if not bracket:
        question = question_at(questions, base)
        return "" if question is None or isinstance(question, Guidance) else str(question.label)
    group = question_at(questions, head + "]")
    if not isinstance(group, Group):
        return ""
    number = int(head.rpartition("[")[2]) + 1
    return f"{group.label} {number} – {field_label(group.questions, rest)}"
