"""Answers about a person: phone numbers, names with their katakana reading, dates of birth."""

import datetime as dt

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.procedures.answers import people
from madoguchi.procedures.answers.people import (
    age_on,
    parse_date_of_birth,
    parse_person_name,
    parse_phone,
)
from madoguchi.procedures.answers.people import (
    today as real_today,
)
from tests.support.questions import question, refusal

TODAY = dt.date(2024, 4, 1)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people, "today", lambda: TODAY)


# --- Phone --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "display"),
    [
        ("03-1234-5678", "+81312345678", "03-1234-5678"),
        ("０３（１２３４）５６７８", "+81312345678", "03-1234-5678"),
        ("09012345678", "+819012345678", "090-1234-5678"),
        ("+81 90 1234 5678", "+819012345678", "090-1234-5678"),
        ("0120-123-456", "+81120123456", "0120-123-456"),
        ("+1 650 253 0000", "+16502530000", "+1 650-253-0000"),
    ],
)
def test_phone_numbers(raw: str, e164: str, display: str) -> None:
    assert parse_phone(question("phone"), raw) == {"e164": e164, "display": display}


@pytest.mark.parametrize("raw", ["123", "03-1234-567", "電話", "090-1234-56789", "+" + "9" * 300])
def test_not_a_phone_number(raw: str) -> None:
    error = refusal(parse_phone, question("phone"), raw)

    assert error.field == "q"
    assert "not a phone number" in str(error)


def test_phone_must_be_one_string() -> None:
    assert refusal(parse_phone, question("phone"), ["03", "1234"]).field == "q"


# --- Names --------------------------------------------------------------------------------

YAMADA = {"family": "山田", "given": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ"}


def test_a_name_with_its_reading() -> None:
    assert parse_person_name(question("person_name"), YAMADA) == YAMADA


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("ｽｽﾞｷ ｼﾞｮｰ", "スズキ ジョー"),
        ("ゔぃ　ー", "ヴィ ー"),
    ],
)
def test_readings_become_full_width_katakana(typed: str, stored: str) -> None:
    answer = parse_person_name(question("person_name"), {**YAMADA, "family_kana": typed})

    assert answer["family_kana"] == stored


@given(st.text(st.characters(min_codepoint=0x3041, max_codepoint=0x3096), min_size=1, max_size=20))
def test_any_hiragana_reading_is_stored_as_katakana(hiragana: str) -> None:
    answer = parse_person_name(question("person_name"), {**YAMADA, "given_kana": hiragana})

    assert answer["given_kana"] == jaconv.hira2kata(hiragana)
    assert all("\u30a1" <= ch <= "\u30fe" for ch in answer["given_kana"] or "")


@given(st.text(st.characters(min_codepoint=0xFF66, max_codepoint=0xFF9D), min_size=1, max_size=20))
def test_any_half_width_reading_is_stored_in_full_width(half_width: str) -> None:
    answer = parse_person_name(question("person_name"), {**YAMADA, "given_kana": half_width})

    assert answer["given_kana"] == jaconv.h2z(half_width)


def test_names_are_nfc_and_trimmed() -> None:
    raw = {**YAMADA, "family": " \u30cf\u309a ク ", "given": "太郎\u3000 次郎"}

    answer = parse_person_name(question("person_name"), raw)

    assert (answer["family"], answer["given"]) == ("パ ク", "太郎 次郎")


def test_kana_is_optional_when_the_question_does_not_ask_for_it() -> None:
    answer = parse_person_name(question("person_name", kana=False), {"family": "Smith"})

    assert answer == {"family": "Smith", "given": None, "family_kana": None, "given_kana": None}


def test_one_name_only() -> None:
    answer = parse_person_name(
        question("person_name"), {"family": "ナリン", "family_kana": "ナリン"}
    )

    assert answer["given"] is None
    assert answer["given_kana"] is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"family": ""}, "q.family", "Enter the family name"),
        ({"family": "山" * 101}, "q.family", "at most 100"),
        ({"given": "太" * 101}, "q.given", "at most 100"),
        ({"family_kana": " "}, "q.family_kana", "reading of the family name"),
        ({"given_kana": ""}, "q.given_kana", "reading of the given name"),
        ({"family_kana": "山田"}, "q.family_kana", "山田 is not in katakana"),
        ({"given_kana": "Taro"}, "q.given_kana", "not in katakana"),
        ({"given_kana": "タロウ1"}, "q.given_kana", "not in katakana"),
        ({"family_kana": "ヤ" * 101}, "q.family_kana", "at most 100"),
        ({"middle": "J"}, "q", "middle is not a part of a name"),
    ],
)
def test_name_refusals(change: dict[str, str], field: str, words: str) -> None:
    error = refusal(parse_person_name, question("person_name"), {**YAMADA, **change})

    assert error.field == field
    assert words in str(error)


def test_a_name_is_a_mapping() -> None:
    assert refusal(parse_person_name, question("person_name"), "山田太郎").field == "q"


# --- Dates of birth -----------------------------------------------------------------------


def test_date_of_birth_in_any_writing() -> None:
    assert parse_date_of_birth(question("date_of_birth"), "平成2年4月1日") == "1990-04-01"
    assert parse_date_of_birth(question("date_of_birth"), "2024-04-01") == "2024-04-01"


@pytest.mark.parametrize(
    ("fields", "raw", "words"),
    [
        ({}, "2024-04-02", "cannot be in the future"),
        ({}, "1870-01-01", "154 years old"),
        ({}, "2024-02-30", "the day must be between 1 and 29"),
        ({"min_age": 18}, "2006-04-02", "at least 18"),
        ({"max_age": 15}, "2008-04-01", "at most 15"),
    ],
)
def test_date_of_birth_refusals(fields: dict[str, int], raw: str, words: str) -> None:
    error = refusal(parse_date_of_birth, question("date_of_birth", **fields), raw)

    assert error.field == "q"
    assert words in str(error)


def test_ages_count_on_the_birthday() -> None:
    assert parse_date_of_birth(question("date_of_birth", min_age=18), "2006-04-01") == "2006-04-01"
    assert parse_date_of_birth(question("date_of_birth", max_age=15), "2008-04-02") == "2008-04-02"
    assert age_on(dt.date(2004, 2, 29), dt.date(2023, 2, 28)) == 18
    assert age_on(dt.date(2004, 2, 29), dt.date(2023, 3, 1)) == 19


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.integers(1, 120))
def test_a_year_is_completed_on_the_birthday(born: dt.date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year
        birthday = dt.date(born.year + years, 3, 1)

    assert age_on(born, birthday) == years
    assert age_on(born, birthday - dt.timedelta(days=1)) == years - 1


def test_today_is_the_date_in_japan() -> None:
    in_tokyo = dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)

    assert real_today() in (in_tokyo.date(), (in_tokyo - dt.timedelta(seconds=5)).date())
