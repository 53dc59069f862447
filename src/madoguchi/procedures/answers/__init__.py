"""Answers: what a person typed for a question, parsed into a typed, JSON-ready value.

Every question type has a parser, registered by its ``type`` with ``@parser("…")``. A parser
receives the question and the raw value as it came from a form or the API — a string, a list of
strings (checkboxes, several files' ids), or a mapping of sub-fields (an address, a name, a bank
account) — and returns the value to store, or raises ``InvalidInput`` whose ``field`` is the
question id, or ``"<question id>.<sub-field>"``, and whose message says in plain words what to do.
``parse_answer`` handles emptiness for every type: an empty optional answer is ``None``; an empty
required one is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from madoguchi.core.errors import InvalidInput

Raw = str | list[str] | Mapping[str, str]
Parser = Callable[[Any, Raw], Any]
P = TypeVar("P", bound=Parser)

PARSERS: dict[str, Parser] = {}


def parser(question_type: str) -> Callable[[P], P]:
    def register(function: P) -> P:
        PARSERS[question_type] = function
        return function

    return register


def is_empty(raw: Raw | None) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list):
        return not any(item.strip() for item in raw)
    return not any(str(value).strip() for value in raw.values())


def parse_answer(question: Any, raw: Raw | None) -> Any:
    """The typed value of one answer, None when optional and empty, or InvalidInput."""
    if is_empty(raw):
        if getattr(question, "required", False):
            raise InvalidInput("Answer this question.", field=question.id)
        return None
    assert raw is not None  # noqa: S101  (is_empty said so; this narrows the type)
    try:
        parse = PARSERS[question.type]
    except KeyError:
        raise LookupError(f"no parser for question type {question.type!r}") from None
    return parse(question, raw)


# The parsers register themselves on import; they import ``parser`` from this module above.
from madoguchi.procedures.answers import (  # noqa: E402
    basic,
    identifiers,
    people,
    places,
    uploads,
)

__all__ = [
    "PARSERS",
    "Raw",
    "basic",
    "identifiers",
    "parse_answer",
    "parser",
    "people",
    "places",
    "uploads",
]
