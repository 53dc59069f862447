"""Every question type that asks something has a parser, and emptiness is handled for all."""

import typing

import pytest

from madoguchi.core.errors import InvalidInput
from madoguchi.procedures.answers import PARSERS, parse_answer
from madoguchi.procedures.definition import Question, ShortText

NOT_PARSED = {"guidance", "group"}  # guidance asks nothing; a group's items are its questions'


def question_types() -> set[str]:
    union = typing.get_args(typing.get_args(Question)[0])
    return {typing.get_args(member.model_fields["type"].annotation)[0] for member in union}


def test_every_question_type_that_asks_has_a_parser() -> None:
    assert question_types() - NOT_PARSED == set(PARSERS)


@pytest.mark.parametrize("empty", [None, "", "   ", [], ["", " "], {"a": "", "b": " "}])
def test_an_empty_answer_is_none_when_optional_and_an_error_when_required(empty: object) -> None:
    optional = ShortText(type="short_text", id="q", label={"ja": "質問"}, required=False)
    assert parse_answer(optional, empty) is None  # type: ignore[arg-type]
    required = optional.model_copy(update={"required": True})
    with pytest.raises(InvalidInput) as raised:
        parse_answer(required, empty)  # type: ignore[arg-type]
    assert raised.value.field == "q"
