"""Answers as people read them: each question type, both languages, groups and computed values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core.i18n import current_language, set_language
from madoguchi.procedures.answers.identifiers import my_number_answer
from madoguchi.procedures.answers.people import parse_person_name
from madoguchi.procedures.answers.places import parse_address
from madoguchi.procedures.loader import load_definition
from madoguchi.submissions.display import answer_rows, answer_text, file_size_text, text_language
from tests.support.my_numbers import new_key_ring
from tests.support.questions import question


@pytest.fixture
def english() -> Iterator[None]:
    before = current_language()
    set_language("en")
    yield
    set_language(before)


@pytest.fixture
def japanese() -> Iterator[None]:
    before = current_language()
    set_language("ja")
    yield
    set_language(before)


def test_dates_are_written_as_people_read_them_in_each_language(japanese: None) -> None:
    assert answer_text(question("date"), "2024-04-01") == "2024年4月1日 (令和6年)"
    assert answer_text(question("date_of_birth"), "1989-01-07") == "1989年1月7日 (昭和64年)"
    set_language("en")
    assert answer_text(question("date"), "2024-04-01") == "1 April 2024"


def test_choices_show_their_labels_and_the_other_text(english: None) -> None:
    options = [
        {"value": "a", "label": {"ja": "あ", "en": "Apple"}},
        {"value": "b", "label": {"ja": "い", "en": "Banana"}},
    ]
    radio = question("choice", options=options)
    assert answer_text(radio, "b") == "Banana"
    boxes = question("choice", style="checkboxes", options=options, other=True)
    assert answer_text(boxes, {"value": ["a", "other"], "other": "Cherry"}) == (
        "Apple, Other: Cherry"
    )


def test_japanese_lists_are_joined_with_the_japanese_comma(japanese: None) -> None:
    options = [{"value": "a", "label": {"ja": "あ"}}, {"value": "b", "label": {"ja": "い"}}]
    assert answer_text(question("choice", style="checkboxes", options=options), ["a", "b"]) == (
        "あ、い"
    )


def test_numbers_are_grouped_with_their_unit(english: None) -> None:
    yen = question("number", unit={"ja": "円", "en": "yen"})
    assert answer_text(yen, 1234567) == "1,234,567 yen"
    assert answer_text(question("number", integer=False), "-1234.50") == "-1,234.50"


def test_names_show_their_reading_in_brackets(japanese: None) -> None:
    raw = {"family": "山田", "given": "花子", "family_kana": "やまだ", "given_kana": "ハナコ"}
    name = parse_person_name(question("person_name"), raw)
    assert answer_text(question("person_name"), name) == "山田 花子（ヤマダ ハナコ）"
    only_family = {"family": "Smith", "given": None, "family_kana": None, "given_kana": None}
    assert answer_text(question("person_name", kana=False), only_family) == "Smith"


def test_an_address_is_one_line_with_the_postal_mark(japanese: None) -> None:
    typed = {"postal_code": "060-0001", "street": "1-2-3", "building": "札幌ビル 101"}
    address = parse_address(question("address"), typed)
    assert answer_text(question("address"), address) == (
        "〒060-0001 北海道札幌市中央区北一条西 1-2-3 札幌ビル 101"
    )


def test_a_my_number_is_only_ever_shown_masked(japanese: None) -> None:
    stored = my_number_answer(question("my_number"), "1234 5678 9018", new_key_ring())
    text = answer_text(question("my_number"), stored)
    assert text == "●●●● ●●●● 9018"
    assert "12345678" not in text
    assert answer_text(question("my_number"), {"last4": "not digits"}) == "●●●● ●●●● ●●●●"


def test_a_bank_account_shows_names_type_number_and_holder(english: None) -> None:
    account = {
        "bank_code": "0001", "bank_name": "みずほ", "branch_code": "001",
        "branch_name": "東京営業部", "type": "ordinary", "number": "1234567",
        "holder": "ヤマダ ハナコ",
    }  # fmt: skip
    assert answer_text(question("bank_account"), account) == (
        "みずほ 東京営業部 Ordinary 1234567 ヤマダ ハナコ"
    )


@pytest.mark.parametrize(
    ("type_", "value", "text"),
    [
        ("yes_no", True, "Yes"),
        ("yes_no", False, "No"),
        ("declaration", True, "Confirmed"),
        ("phone", {"e164": "+819012345678", "display": "090-1234-5678"}, "090-1234-5678"),
        ("local_government", "011002", "札幌市 (011002)"),
        ("corporate_number", "5835678256246", "5835678256246"),
        ("short_text", "こんにちは", "こんにちは"),
    ],
)
def test_simple_answers(english: None, type_: str, value: Any, text: str) -> None:
    assert answer_text(question(type_), value) == text


def test_files_by_name_and_size(english: None) -> None:
    files = [
        {"id": "a" * 64, "name": "意見.pdf", "size": 1, "media_type": "application/pdf"},
        {"id": "b" * 64, "name": "map.png", "size": 3 * 1024 * 1024, "media_type": "image/png"},
    ]
    assert answer_text(question("file", max_files=2), files) == "意見.pdf (1 KB), map.png (3.0 MB)"
    assert file_size_text(1025) == "2 KB"


GROUP_SOURCE = """
format: madoguchi.procedure/1
slug: rows
owner: soumu
title: {ja: 行, en: Rows}
summary: {ja: 行, en: Rows}
pages:
  - id: first
    title: {ja: 一, en: One}
    questions:
      - {id: intro, type: guidance, text: {ja: 説明}}
      - {id: city, type: short_text, label: {ja: 市, en: City}}
      - {id: note, type: short_text, required: false, label: {ja: 備考, en: Note}}
  - id: second
    title: {ja: 二, en: Two}
    questions:
      - id: children
        type: group
        label: {ja: 子, en: Children}
        questions:
          - {id: child_name, type: short_text, label: {ja: 名前, en: Name}}
          - {id: age, type: number, label: {ja: 年齢, en: Age}, unit: {ja: 歳, en: years}}
computed:
  - {id: child_count, label: {ja: 子の数, en: Number of children}, count_of: children}
confirmation: {ja: 受け付けました}
"""


def test_rows_follow_the_definition_with_groups_item_by_item_and_computed_last(
    english: None,
) -> None:
    definition = load_definition(GROUP_SOURCE)
    answers = {"children": [{"child_name": "Ken", "age": 7}, {"child_name": "Aya", "age": 12}],
               "city": "Sapporo"}  # fmt: skip
    rows = answer_rows(definition, answers, {"child_count": 2})
    assert [(r.label, r.text, r.page_id, r.question_id) for r in rows] == [
        ("City", "Sapporo", "first", "city"),
        ("Children", "2 items", "second", "children"),
        ("Number of children", "2", None, "child_count"),
    ]
    items = [[(r.label, r.text) for r in item] for item in rows[1].items]
    assert items == [[("Name", "Ken"), ("Age", "7 years")], [("Name", "Aya"), ("Age", "12 years")]]
    assert answer_text(definition.pages[1].questions[0], answers["children"]) == (
        "1. Ken / 7 years; 2. Aya / 12 years"
    )


def test_questions_shown_but_unanswered_get_a_row_only_when_asked_for(english: None) -> None:
    definition = load_definition(GROUP_SOURCE)
    assert [r.question_id for r in answer_rows(definition, {"city": "Sapporo"}, {})] == ["city"]
    rows = answer_rows(definition, {"city": "Sapporo"}, {}, shown={"city", "note"})
    assert [(r.question_id, r.text, r.answered) for r in rows] == [
        ("city", "Sapporo", True),
        ("note", "Not answered", False),
    ]


def test_the_language_of_typed_text_is_guessed_for_marking_it() -> None:
    assert text_language("山田 花子") == "ja"
    assert text_language("Hello there") == "en"
    assert text_language("1-2-3") is None
