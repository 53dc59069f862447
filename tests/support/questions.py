"""Questions built for answer tests, and the error a parser refuses an answer with."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from madoguchi.core.errors import InvalidInput
from madoguchi.procedures.answers import Raw
from madoguchi.procedures.definition import Question

QUESTION: TypeAdapter[Any] = TypeAdapter(Question)


def question(type_: str, **fields: Any) -> Any:
    """A question of that type with id ``q`` and the given type-specific keys."""
    return QUESTION.validate_python({"id": "q", "label": {"ja": "質問"}, "type": type_, **fields})


def refusal(parse: Any, q: Any, raw: Raw) -> InvalidInput:
    """The InvalidInput that ``parse`` raises for ``raw``; fails the test if none is raised."""
    with pytest.raises(InvalidInput) as raised:
        parse(q, raw)
    return raised.value
