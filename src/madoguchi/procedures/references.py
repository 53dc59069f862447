"""Checks that span a whole definition: ids unique, conditions and formulas that refer only to
answers asked earlier, skips to pages and exits that exist.

Each problem is a path into the definition (as Pydantic paths are) and a message.
"""

from __future__ import annotations

from collections.abc import Iterator

from madoguchi.procedures.definition import (
    All,
    AnyOf,
    Compare,
    Computed,
    Condition,
    Definition,
    Group,
    Not,
    Page,
    Question,
)

Path = tuple[str | int, ...]
Found = tuple[Path, str]


class Known(set[str]):
    """What a condition may refer to at a point of the definition: the questions asked so far,
    and each computed value as soon as every answer it is computed from has been asked."""

    def __init__(self, computed: list[Computed]) -> None:
        super().__init__()
        self.asked: set[str] = set()
        self._pending = {c.id: set(c.sum or [c.age_of or c.count_of or ""]) for c in computed}

    def add(self, name: str) -> None:
        super().add(name)
        self.asked.add(name)
        for computed_id, inputs in list(self._pending.items()):
            if inputs <= self.asked:
                del self._pending[computed_id]
                super().add(computed_id)


def check_references(definition: Definition) -> list[Found]:
    known = Known(definition.computed)
    problems: list[Found] = []
    for index, page in enumerate(definition.pages):
        problems += _check_page(page, ("pages", index), known)
    problems += _check_computed(definition, known.asked)
    problems += _check_skips(definition)
    return problems


def _check_page(page: Page, path: Path, known: set[str]) -> list[Found]:
    problems = list(_condition_problems(page.show_if, (*path, "show_if"), known))
    for index, question in enumerate(page.questions):
        problems += _check_question(question, (*path, "questions", index), known)
    for index, skip in enumerate(page.next):
        problems += _condition_problems(skip.when, (*path, "next", index, "when"), known)
    return problems


def _check_question(question: Question, path: Path, known: set[str]) -> list[Found]:
    problems = list(_condition_problems(question.show_if, (*path, "show_if"), known))
    if question.id in known:
        problems.append(((*path, "id"), f"the id {question.id!r} is used twice"))
    known.add(question.id)
    if isinstance(question, Group):
        inner = set(known)
        for index, child in enumerate(question.questions):
            problems += _check_question(child, (*path, "questions", index), inner)
        if question.min_items > question.max_items:
            problems.append(((*path, "min_items"), "min_items is more than max_items"))
    return problems


def _condition_problems(
    condition: Condition | None, path: Path, known: set[str]
) -> Iterator[Found]:
    if condition is None:
        return
    if isinstance(condition, Compare):
        if condition.answer not in known:
            yield (*path, "answer"), f"{condition.answer!r} is not an earlier question"
    elif isinstance(condition, All | AnyOf):
        key = "all" if isinstance(condition, All) else "any"
        parts = condition.all if isinstance(condition, All) else condition.any
        for index, part in enumerate(parts):
            yield from _condition_problems(part, (*path, key, index), known)
    elif isinstance(condition, Not):
        yield from _condition_problems(condition.not_, (*path, "not"), known)


def _check_computed(definition: Definition, asked: set[str]) -> list[Found]:
    problems: list[Found] = []
    seen = set(asked)
    for index, computed in enumerate(definition.computed):
        path: Path = ("computed", index)
        for name in computed.sum or [computed.age_of or computed.count_of or ""]:
            if name not in asked:
                problems.append(((*path,), f"{name!r} is not a question of this procedure"))
        if computed.id in seen:
            problems.append(((*path, "id"), f"the id {computed.id!r} is used twice"))
        seen.add(computed.id)
    return problems


def _check_skips(definition: Definition) -> list[Found]:
    pages = [page.id for page in definition.pages]
    exits = {exit_.id for exit_ in definition.exits}
    problems: list[Found] = []
    for index, page in enumerate(definition.pages):
        for rule_index, skip in enumerate(page.next):
            path: Path = ("pages", index, "next", rule_index, "goto")
            problems += _skip_problem(skip.goto, pages[index + 1 :], exits, path)
    return problems


def _skip_problem(goto: str, later_pages: list[str], exits: set[str], path: Path) -> list[Found]:
    if goto == "end" or goto in later_pages:
        return []
    if goto.startswith("exit:"):
        if goto[5:] in exits:
            return []
        return [(path, f"there is no exit called {goto[5:]!r}")]
    return [(path, f"{goto!r} is not a later page (a skip may only go forward)")]
