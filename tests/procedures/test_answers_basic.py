"""Answers to the general question types: what is accepted, what it becomes, and each refusal."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.procedures.answers import Raw
from madoguchi.procedures.answers.basic import (
    parse_choice,
    parse_date_answer,
    parse_declaration,
    parse_email,
    parse_long_text,
    parse_number,
    parse_short_text,
    parse_yes_no,
)
from tests.support.questions import question, refusal

# --- Text ---------------------------------------------------------------------------------


def test_short_text_is_stripped_and_in_nfc() -> None:
    q = question("short_text", max_length=5)

    assert parse_short_text(q, "  ガ\u0301 ") == "ガ\u0301"
    assert parse_short_text(q, "\u30ab\u3099") == "ガ"  # カ + combining dakuten
    assert parse_short_text(q, "a\tb\r\nc") == "a b c"
    assert parse_short_text(q, "a\x00b") == "ab"


def test_short_text_too_long() -> None:
    error = refusal(parse_short_text, question("short_text", max_length=3), "abcd")

    assert (error.field, error.params) == ("q", {"most": 3, "count": 4})


def test_text_must_be_one_string() -> None:
    assert refusal(parse_short_text, question("short_text"), ["a", "b"]).field == "q"
    assert refusal(parse_long_text, question("long_text"), {"a": "b"}).field == "q"


def test_long_text_keeps_line_breaks() -> None:
    q = question("long_text", min_length=3, max_length=10)

    assert parse_long_text(q, "\n a\r\nb\rc \n") == "a\nb\nc"


@pytest.mark.parametrize(("raw", "param"), [("ab", "least"), ("a" * 11, "most")])
def test_long_text_length(raw: str, param: str) -> None:
    error = refusal(parse_long_text, question("long_text", min_length=3, max_length=10), raw)

    assert error.field == "q"
    assert param in error.params


# --- Numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1,000", 1000), ("１，０００", 1000), ("42", 42), ("-3", -3), ("−3", -3), ("007", 7)],
)
def test_integers(raw: str, value: int) -> None:
    assert parse_number(question("number"), raw) == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [("2.50", "2.50"), ("1,234.5", "1234.5"), (".5", "0.5"), ("-0", "0"), ("３．１４", "3.14")],
)
def test_decimals_are_strings_as_typed(raw: str, value: str) -> None:
    assert parse_number(question("number", integer=False), raw) == value


@given(st.integers(-(10**15), 10**15), st.booleans(), st.booleans())
def test_any_integer_however_written(number: int, commas: bool, wide: bool) -> None:
    text = f"{number:,}" if commas else str(number)
    if wide:
        text = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789,-"})

    assert parse_number(question("number"), text) == number


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, max_value=10**9, min_value=-(10**9)
    )
)
def test_any_decimal_keeps_its_value(number: Decimal) -> None:
    assert Decimal(parse_number(question("number", integer=False), f"{number:f}")) == number


@pytest.mark.parametrize(
    "raw", ["1,00", "1000円", "1 e5", "1.", "-", "1,000,00", "12-3", "1" * 41, "1.2.3", "++1"]
)
def test_not_a_number(raw: str) -> None:
    error = refusal(parse_number, question("number", integer=False), raw)

    assert error.field == "q"
    assert "not a number" in str(error)


def test_integer_question_refuses_a_decimal_point() -> None:
    assert "whole number" in str(refusal(parse_number, question("number"), "5.0"))


@pytest.mark.parametrize(
    ("limits", "raw", "params"),
    [
        ({"minimum": 0, "maximum": 10}, "11", {"least": "0", "most": "10"}),
        ({"minimum": 0.5}, "0.4", {"least": "0.5"}),
        ({"maximum": 1.1}, "1.11", {"most": "1.1"}),
    ],
)
def test_number_limits(limits: dict[str, float], raw: str, params: dict[str, str]) -> None:
    q = question("number", integer=False, **limits)
    error = refusal(parse_number, q, raw)

    assert (error.field, error.params) == ("q", params)


def test_number_limits_are_inclusive() -> None:
    assert parse_number(question("number", minimum=0, maximum=10), "10") == 10
    assert parse_number(question("number", integer=False, minimum=1.1), "1.10") == "1.10"


# --- Dates --------------------------------------------------------------------------------


def test_date_answers_are_iso() -> None:
    assert parse_date_answer(question("date"), "R6.4.1") == "2024-04-01"


@pytest.mark.parametrize(
    ("raw", "words"),
    [("2024-03-31", "on or after 2024-04-01"), ("2025-04-01", "on or before 2025-03-31")],
)
def test_date_limits(raw: str, words: str) -> None:
    q = question("date", earliest="2024-04-01", latest="2025-03-31")
    error = refusal(parse_date_answer, q, raw)

    assert error.field == "q"
    assert words in str(error)


def test_an_impossible_date_names_the_question() -> None:
    assert refusal(parse_date_answer, question("date"), "平成31年5月1日").field == "q"


# --- Choices ------------------------------------------------------------------------------

OPTIONS = [{"value": v, "label": {"ja": v}} for v in ("bus", "train", "car")]


def test_radio_and_select() -> None:
    assert parse_choice(question("choice", options=OPTIONS), " train ") == "train"
    assert parse_choice(question("choice", style="select", options=OPTIONS), ["car"]) == "car"
    assert parse_choice(question("choice", options=OPTIONS), {"value": "bus"}) == "bus"


def test_checkboxes_in_the_order_of_the_options() -> None:
    q = question("choice", style="checkboxes", options=OPTIONS)

    assert parse_choice(q, ["car", "bus", ""]) == ["bus", "car"]
    assert parse_choice(q, "train") == ["train"]


def test_other_with_text() -> None:
    radio = question("choice", options=OPTIONS, other=True)
    boxes = question("choice", style="checkboxes", options=OPTIONS, other=True)

    assert parse_choice(radio, {"value": "other", "other": " 自転車 "}) == {
        "value": "other",
        "other": "自転車",
    }
    assert parse_choice(radio, "bus") == {"value": "bus", "other": None}
    assert parse_choice(boxes, {"value": ["other", "car"], "other": "徒歩"}) == {  # type: ignore[dict-item]
        "value": ["car", "other"],
        "other": "徒歩",
    }


@pytest.mark.parametrize(
    ("fields", "raw", "field", "words"),
    [
        ({}, "plane", "q", "plane is not one of the options"),
        ({}, "other", "q", "other is not one of the options"),
        ({}, ["bus", "car"], "q", "only one"),
        ({}, {"value": "bus", "other": "x"}, "q", "not as other"),
        ({"other": True}, {"value": "bus", "colour": "x"}, "q", "not as colour"),
        ({"other": True}, {"value": "other", "other": " "}, "q.other", "box for 'other'"),
        ({"other": True}, {"value": "bus", "other": "x"}, "q.other", "choose 'other' too"),
        ({"other": True}, {"value": "other", "other": "x" * 201}, "q.other", "at most 200"),
        ({"style": "checkboxes"}, ["bus", "bus"], "q", "bus is chosen more than once"),
        ({"style": "checkboxes", "min_selected": 2}, ["bus"], "q", "at least 2"),
        ({"style": "checkboxes", "max_selected": 2}, ["bus", "car", "train"], "q", "at most 2"),
        ({"style": "checkboxes"}, ["bus", "ship"], "q", "ship is not one of the options"),
    ],
)
def test_choice_refusals(fields: dict[str, Any], raw: Raw, field: str, words: str) -> None:
    error = refusal(parse_choice, question("choice", options=OPTIONS, **fields), raw)

    assert error.field == field
    assert words in str(error)


# --- Yes or no, email, declaration --------------------------------------------------------


def test_yes_no() -> None:
    assert parse_yes_no(question("yes_no"), "yes") is True
    assert parse_yes_no(question("yes_no"), " NO ") is False
    assert refusal(parse_yes_no, question("yes_no"), "maybe").field == "q"


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("Taro.Yamada@Example.JP", "Taro.Yamada@example.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("taro..@docomo.ne.jp", "taro..@docomo.ne.jp"),
        ("a+b@mail.xn--wgv71a", "a+b@mail.xn--wgv71a"),
    ],
)
def test_email(raw: str, address: str) -> None:
    assert parse_email(question("email"), raw) == address


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("taro", "not an email address"),
        ("@example.jp", "not an email address"),
        ("太郎@example.jp", "not an email address"),
        ("a b@example.jp", "not an email address"),
        ("t" * 65 + "@example.jp", "not an email address"),
        ("taro@localhost", "localhost after the @"),
        ("taro@-x.jp", "not an internet domain"),
        ("taro@example..jp", "not an internet domain"),
        ("taro@10.0.0.1", "not an internet domain"),
        ("taro@例え.jp", "not an internet domain"),
        ("a@" + "b" * 250 + ".jp", "at most 254 characters"),
    ],
)
def test_email_refusals(raw: str, words: str) -> None:
    error = refusal(parse_email, question("email"), raw)

    assert error.field == "q"
    assert words in str(error)


@pytest.mark.parametrize("raw", ["yes", "on", "true", "TRUE"])
def test_declaration(raw: str) -> None:
    assert parse_declaration(question("declaration"), raw) is True


@pytest.mark.parametrize("raw", ["no", "off", "false", "1"])
def test_declaration_must_be_confirmed(raw: str) -> None:
    assert refusal(parse_declaration, question("declaration"), raw).field == "q"
