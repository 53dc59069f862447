"""Checking a whole set of answers against a definition, as the API and the submit step do.

The same parsers and the same logic engine as the pages, in one pass: every answer given is
parsed; the logic decides, on the answers that parsed, which questions are on the applicant's
path; problems are reported only for those; answers to hidden or skipped questions are dropped,
never stored; and required questions left unanswered are reported. All problems come back at
once (``InvalidInputs``), each naming its field: ``question``, ``question.part`` or
``group[0].question``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from madoguchi.core.errors import InvalidInput, InvalidInputs
from madoguchi.procedures.answers import AnswerContext, Raw, is_empty, parse_answer
from madoguchi.procedures.definition import Choice, Definition, Group, Guidance, Question
from madoguchi.procedures.logic import Exit, computed_values, missing_required, prune
from madoguchi.procedures.logic.navigation import walk


@dataclass(frozen=True)
class Accepted:
    """Answers that passed: typed, pruned to the path, with the computed values over them."""

    answers: dict[str, Any]
    computed: dict[str, int | str]


def all_questions(definition: Definition) -> list[Question]:
    """Every question of every page, in order (a group's own questions are inside it)."""
    return [question for page in definition.pages for question in page.questions]


def parse_given(
    questions: list[Question],
    raw: Mapping[str, Any],
    prefix: str = "",
    *,
    earlier: Mapping[str, Any] | None = None,
    context: AnswerContext | None = None,
) -> tuple[dict[str, Any], list[InvalidInput]]:
    """Parse the non-empty answers given to ``questions``: the values, and the problems found.

    Empty answers are left out (whether they are needed is the logic's call, not the parser's),
    except that a My Number left empty keeps the one in ``earlier``: it is never shown back, so
    a person types it again only to change it.
    """
    values: dict[str, Any] = {}
    problems: list[InvalidInput] = []
    kept = earlier or {}
    for question in questions:
        if isinstance(question, Guidance) or question.id not in raw:
            continue
        given = raw[question.id]
        try:
            if isinstance(question, Group):
                items = _parse_items(question, given, kept.get(question.id), prefix, context)
                values[question.id], found = items
                problems += found
            elif not is_empty(given):
                values[question.id] = parse_answer(question, _as_raw(question, given), context)
            elif question.type == "my_number" and kept.get(question.id) is not None:
                values[question.id] = kept[question.id]
        except InvalidInput as problem:
            problems.append(_prefixed(problem, prefix))
    return values, problems


def check_answers(
    definition: Definition,
    raw: Mapping[str, Any],
    today: dt.date,
    context: AnswerContext | None = None,
) -> Accepted:
    """The accepted answers, or ``InvalidInputs`` with every problem on the applicant's path.

    Besides each answer's own checks: an answer to a question the procedure does not have is an
    error (a typo would otherwise be dropped unnoticed), and so are answers whose path ends at an
    exit, where a person on the pages would have been stopped.
    """
    unknown = _unknown_answers(all_questions(definition), raw, "")
    values, problems = parse_given(all_questions(definition), raw, context=context)
    route = walk(definition, values, today)
    kept = route.kept
    problems = [p for p in problems if _on_path(p.field, kept, values, definition, today)]
    problems += [
        InvalidInput("Answer this question.", field=name)
        for name in missing_required(definition, kept, today)
        if not any(p.field and _same_question(p.field, name) for p in problems)
    ]
    if isinstance(route.outcome, Exit) and not problems:
        problems.append(_exit_problem(definition, route.outcome))
    if unknown or problems:
        raise InvalidInputs(unknown + problems)
    return Accepted(kept, computed_values(definition, kept, today))


def _unknown_answers(
    questions: list[Question], answers: Mapping[str, Any], prefix: str
) -> list[InvalidInput]:
    asked = {q.id: q for q in questions if not isinstance(q, Guidance)}
    problems = [
        InvalidInput("This procedure has no question {id}.", field=prefix + key, id=key)
        for key in answers
        if key not in asked
    ]
    for key, value in answers.items():
        group = asked.get(key)
        if isinstance(group, Group) and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    problems += _unknown_answers(group.questions, item, f"{prefix}{key}[{index}].")
    return problems


def _exit_problem(definition: Definition, outcome: Exit) -> InvalidInput:
    message = next(e.message for e in definition.exits if e.id == outcome.exit_id)
    return InvalidInput(
        "These answers end the procedure: {reason}", field="answers", reason=str(message)
    )


def _parse_items(
    group: Group, given: Any, kept: Any, prefix: str, context: AnswerContext | None
) -> tuple[list[dict[str, Any]], list[InvalidInput]]:
    if not isinstance(given, list) or not all(isinstance(item, Mapping) for item in given):
        raise InvalidInput("Give the items of this group as a list.", field=group.id)
    if len(given) > group.max_items:
        raise InvalidInput("Add at most {most} items.", field=group.id, most=group.max_items)
    earlier = kept if isinstance(kept, list) else []
    items, problems = [], []
    for index, item in enumerate(given):
        before = earlier[index] if index < len(earlier) and isinstance(earlier[index], dict) else {}
        where = f"{prefix}{group.id}[{index}]."
        parsed, found = parse_given(group.questions, item, where, earlier=before, context=context)
        items.append(parsed)
        problems += found
    return items, problems


def _as_raw(question: Question, given: Any) -> Raw:
    """What the parsers take: text, a list of text, or a mapping of parts; JSON numbers and
    booleans are read as the text a person would type."""
    if isinstance(given, bool):
        return "yes" if given else "no"
    if isinstance(given, int | float):
        return str(given)
    if isinstance(given, list):
        return [str(item) for item in given]
    if isinstance(given, Mapping):
        if isinstance(question, Choice):  # {"value": [...checked], "other": "..."}: keep the list
            return cast(Raw, {str(k): _choice_part(v) for k, v in given.items()})
        return {str(key): _text(value) for key, value in given.items()}
    if isinstance(given, str):
        return given
    raise InvalidInput("This answer is of a kind this question cannot take.", field=question.id)


def _choice_part(value: Any) -> str | list[str]:
    return [str(item) for item in value] if isinstance(value, list) else _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _prefixed(problem: InvalidInput, prefix: str) -> InvalidInput:
    if prefix and problem.field:
        problem.field = prefix + problem.field
    return problem


def _question_of(field: str) -> str:
    """``children[0].name.kana`` → ``children``: the top-level question a field belongs to."""
    return field.split(".")[0].split("[")[0]


def _same_question(field: str, name: str) -> bool:
    return field == name or field.startswith((name + ".", name + "["))


def _on_path(
    field: str | None,
    kept: dict[str, Any],
    values: dict[str, Any],
    definition: Definition,
    today: dt.date,
) -> bool:
    """Whether a problem's question would be shown, were it answered: try it with a stand-in."""
    if field is None:
        return True
    name = _question_of(field)
    if name in kept:
        return True
    return name in prune(definition, {**values, name: _stand_in(name, definition)}, today)


def _stand_in(name: str, definition: Definition) -> Any:
    question = next(q for q in all_questions(definition) if q.id == name)
    return [] if isinstance(question, Group) else "?"
