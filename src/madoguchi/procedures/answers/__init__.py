"""Answers: what a person typed for a question, parsed into a typed, JSON-ready value.

Every question type has a parser, registered by its ``type`` with ``@parser("…")``. A parser
receives the question and the raw value as it came from a form or the API — a string, a list of
strings (checkboxes, several files' ids), or a mapping of sub-fields (an address, a name, a bank
account) — and returns the value to store, or raises ``InvalidInput`` whose ``field`` is the
question id, or ``"<question id>.<sub-field>"``, and whose message says in plain words what to do.
``parse_answer`` handles emptiness for every type: an empty optional answer is ``None``; an empty
required one is an error.

Two parsers need more than the question: My Number is sealed under the application's My Number
key ring (``core.my_number_keys``), and file refs are checked against its file store. They are
registered with ``context=True`` and receive the ``AnswerContext`` the caller passes (an app made
with its own settings passes its own; without one, the process-wide settings are used).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from madoguchi.core.errors import InvalidInput
from madoguchi.core.files import FileStore
from madoguchi.core.my_number_keys import KeyRing, key_ring
from madoguchi.core.settings import Settings, get_settings

Raw = str | list[str] | Mapping[str, str]
P = TypeVar("P", bound=Callable[..., Any])

PARSERS: dict[str, Callable[..., Any]] = {}
NEEDS_CONTEXT: set[str] = set()


@dataclass(frozen=True)
class AnswerContext:
    """What some parsers need from the application: its secret, file store and My Number keys."""

    secret: str
    store: FileStore
    my_number_keys: KeyRing

    @classmethod
    def of(cls, settings: Settings) -> AnswerContext:
        return cls(
            settings.resolved_secret_key(), FileStore.from_settings(settings), key_ring(settings)
        )


def parser(question_type: str, *, context: bool = False) -> Callable[[P], P]:
    """Register a parser ``(question, raw)``, or ``(question, raw, context)`` with context=True."""

    def register(function: P) -> P:
        PARSERS[question_type] = function
        if context:
            NEEDS_CONTEXT.add(question_type)
        return function

    return register


def is_empty(raw: Any) -> bool:
    """Nothing typed: None, blank text, or lists and mappings of nothing typed."""
    if raw is None:
        return True
    if isinstance(raw, Mapping):
        return all(is_empty(part) for part in raw.values())
    if isinstance(raw, list):
        return all(is_empty(part) for part in raw)
    return not str(raw).strip()


def parse_answer(question: Any, raw: Raw | None, context: AnswerContext | None = None) -> Any:
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
    if question.type in NEEDS_CONTEXT:
        return parse(question, raw, context or AnswerContext.of(get_settings()))
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
    "AnswerContext",
    "Raw",
    "basic",
    "identifiers",
    "parse_answer",
    "parser",
    "people",
    "places",
    "uploads",
]
