"""Which required questions on the path are still unanswered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from madoguchi.procedures.definition import Declaration, Definition, Group, Guidance, Question
from madoguchi.procedures.logic.computed import with_computed
from madoguchi.procedures.logic.conditions import Values, holds, is_answered
from madoguchi.procedures.logic.navigation import walk


def missing_required(definition: Definition, answers: Values, today: dt.date) -> list[str]:
    """Required questions shown on the path and left unanswered, in order.

    A hidden question is never required. A declaration must be accepted (True). A group is missing
    when it has fewer than ``min_items`` items (if required, or if it has any); a question inside
    item 0 of group ``children`` is reported as ``children[0].name``.
    """
    route = walk(definition, answers, today)
    pages = {page.id: page for page in definition.pages}
    seen: dict[str, Any] = {}
    missing: list[str] = []
    values_of = partial(with_computed, definition, today=today)
    for page_id in route.path:
        missing += _missing_among(pages[page_id].questions, route.kept, seen, values_of, "")
    return missing


def _missing_among(
    questions: list[Question],
    given: Values,
    seen: dict[str, Any],
    values_of: Callable[[dict[str, Any]], Values],
    prefix: str,
) -> list[str]:
    missing: list[str] = []
    for question in questions:
        missing += _missing(question, given.get(question.id), values_of(seen), prefix)
        if question.id in given:
            seen[question.id] = given[question.id]
    return missing


def _missing(question: Question, value: Any, values: Values, prefix: str) -> list[str]:
    if isinstance(question, Guidance) or not holds(question.show_if, values):
        return []
    if isinstance(question, Group):
        return _missing_items(question, value, values, prefix + question.id)
    answered = value is True if isinstance(question, Declaration) else is_answered(value)
    return [prefix + question.id] if question.required and not answered else []


def _missing_items(group: Group, value: Any, outer: Values, name: str) -> list[str]:
    items = value if isinstance(value, list) else []
    missing = [name] if len(items) < group.min_items and (group.required or items) else []
    for index, item in enumerate(items):
        given = item if isinstance(item, dict) else {}
        prefix = f"{name}[{index}]."
        missing += _missing_among(group.questions, given, {}, lambda s: {**outer, **s}, prefix)
    return missing
