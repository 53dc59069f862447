"""Which questions and pages are shown, where the applicant goes next, which answers are kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from madoguchi.core.errors import NotFound
from madoguchi.procedures.definition import Definition, Group, Guidance, Page, Question
from madoguchi.procedures.logic.computed import with_computed
from madoguchi.procedures.logic.conditions import Values, evaluate, holds


@dataclass(frozen=True)
class NextPage:
    page_id: str


@dataclass(frozen=True)
class End:
    """Nothing more to ask: check your answers, then submit."""


@dataclass(frozen=True)
class Exit:
    """The applicant cannot (or need not) go on; the exit's message says why."""

    exit_id: str


Step = NextPage | End | Exit


def visible_questions(page: Page | Group, values: Values) -> list[Question]:
    """The questions of a page (or of one group item) that are shown, guidance included.

    ``values`` should already hold computed values. A hidden question counts as unanswered for
    the questions after it, since its answer is never stored.
    """
    shown, seen = [], dict(values)
    for question in page.questions:
        if holds(question.show_if, seen):
            shown.append(question)
        else:
            seen.pop(question.id, None)
    return shown


def _keep(
    questions: list[Question],
    given: Values,
    kept: dict[str, Any],
    values_of: Callable[[dict[str, Any]], Values],
) -> None:
    """Copy into ``kept`` the answers to the questions shown, deciding each on what is kept."""
    for question in questions:
        if isinstance(question, Guidance) or question.id not in given:
            continue
        values = values_of(kept)
        if holds(question.show_if, values):
            answer = given[question.id]
            kept[question.id] = (
                _keep_items(question, answer, values) if isinstance(question, Group) else answer
            )


def _keep_items(group: Group, items: Any, outer: Values) -> list[dict[str, Any]]:
    """Each item pruned by its own conditions, which see the item's answers and the outer ones."""
    kept_items = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            kept: dict[str, Any] = {}
            _keep(group.questions, item, kept, lambda seen: {**outer, **seen})
            kept_items.append(kept)
    return kept_items


@dataclass
class Route:
    """The pages gone through, the answers kept on them, and where the walk stopped."""

    path: list[str] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)
    outcome: Step = field(default_factory=End)


def walk(
    definition: Definition, answers: Values, today: dt.date, before: int | None = None
) -> Route:
    """Follow the applicant from the first page (stopping short of page ``before`` if given)."""
    route = Route()
    route.outcome = _next_visible(definition, 0, with_computed(definition, {}, today))
    while isinstance(route.outcome, NextPage):
        index = _index(definition, route.outcome.page_id)
        if before is not None and index >= before:
            break
        route.path.append(route.outcome.page_id)
        _keep_page(definition, index, answers, route.kept, today)
        route.outcome = _after(definition, index, route.kept, today)
    return route


def _keep_page(
    definition: Definition, index: int, answers: Values, kept: dict[str, Any], today: dt.date
) -> None:
    questions = definition.pages[index].questions
    _keep(questions, answers, kept, lambda seen: with_computed(definition, seen, today))


def _after(definition: Definition, index: int, kept: Values, today: dt.date) -> Step:
    """Where the applicant goes from page ``index``: the first skip that holds, else onwards."""
    values = with_computed(definition, kept, today)
    for skip in definition.pages[index].next:
        if evaluate(skip.when, values):
            return _goto(definition, skip.goto, index, values)
    return _next_visible(definition, index + 1, values)


def _goto(definition: Definition, goto: str, index: int, values: Values) -> Step:
    if goto == "end":
        return End()
    if goto.startswith("exit:"):
        return Exit(goto.removeprefix("exit:"))
    # references.py rejects a skip backwards; never loop even if one slipped through
    return _next_visible(definition, max(_index(definition, goto), index + 1), values)


def _next_visible(definition: Definition, start: int, values: Values) -> NextPage | End:
    """The first page from ``start`` that is shown (a skip's target too may be hidden)."""
    for page in definition.pages[start:]:
        if holds(page.show_if, values):
            return NextPage(page.id)
    return End()


def _index(definition: Definition, page_id: str) -> int:
    for index, page in enumerate(definition.pages):
        if page.id == page_id:
            return index
    raise NotFound("There is no page {page_id} in this procedure", page_id=page_id)


def next_step(
    definition: Definition, current_page_id: str, answers: Values, today: dt.date
) -> Step:
    """Where to go after ``current_page_id``: its skips in order, else the next page shown."""
    index = _index(definition, current_page_id)
    kept = walk(definition, answers, today, before=index).kept
    _keep_page(definition, index, answers, kept, today)
    return _after(definition, index, kept, today)


def path(definition: Definition, answers: Values, today: dt.date) -> list[str]:
    """The ids of the pages the applicant goes through, from the first; not the skipped ones."""
    return walk(definition, answers, today).path


def prune(definition: Definition, answers: Values, today: dt.date) -> dict[str, Any]:
    """Only the answers to questions shown on the path: hidden or skipped ones are never stored."""
    return walk(definition, answers, today).kept


def visible_pages(definition: Definition, answers: Values, today: dt.date) -> list[Page]:
    """The pages whose show_if holds (on the answers kept before each), skipped or not."""
    kept, shown, earlier = prune(definition, answers, today), [], dict[str, Any]()
    for page in definition.pages:
        if holds(page.show_if, with_computed(definition, earlier, today)):
            shown.append(page)
        earlier |= {q.id: kept[q.id] for q in page.questions if q.id in kept}
    return shown
