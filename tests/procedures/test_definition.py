"""The definition format: examples load, and every mistake is reported with its path and line."""

import json
from pathlib import Path
from textwrap import dedent

import pytest

from madoguchi.procedures.definition import Definition, definition_json_schema
from madoguchi.procedures.loader import DefinitionError, load_definition

EXAMPLES = sorted((Path(__file__).parents[2] / "src/madoguchi/procedures/examples").glob("*.yaml"))

HEADER = """\
format: madoguchi.procedure/1
slug: test-procedure
owner: soumu
title: {ja: テスト}
summary: {ja: 概要}
confirmation: {ja: 受け付けました}
"""


def problems_of(body: str) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        load_definition(HEADER + dedent(body))
    assert raised.value.status == 422
    assert raised.value.field == "definition"
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_example_procedures_load(path: Path) -> None:
    definition = load_definition(path.read_text(encoding="utf-8"))
    assert definition.slug == path.stem
    assert definition.pages


def test_the_consultation_runs_at_least_thirty_days() -> None:
    consultation = load_definition((EXAMPLES[1]).read_text(encoding="utf-8"))
    assert consultation.opens and consultation.closes
    assert (consultation.closes - consultation.opens).days >= 30


def test_an_unknown_question_type_is_named_with_its_line() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - id: q
                type: shorttext
                label: {ja: 質問}
        """)
    assert len(found) == 1
    assert found[0].startswith("pages[0].questions[0] (line 11): ")
    assert "shorttext" in found[0]


def test_a_misspelt_key_is_an_error_not_ignored() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - {id: q, type: short_text, label: {ja: 質問}, requird: false}
        """)
    assert found == ["pages[0].questions[0].requird (line 11): Extra inputs are not permitted"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of("""\
        opens: 2026-12-31
        closes: 2026-12-01
        pages:
          - id: One
            title: {ja: ""}
            questions: []
        """)
    assert any(p.startswith("pages[0].id (line 10)") for p in found)
    assert any(p.startswith("pages[0].title.ja (line 11)") for p in found)
    assert any(p.startswith("pages[0].questions (line 12)") for p in found)


def test_conditions_may_refer_only_to_earlier_questions() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - id: first
                type: yes_no
                label: {ja: 一つ目}
                show_if: {answer: second, equals: true}
              - id: second
                type: yes_no
                label: {ja: 二つ目}
        """)
    assert found == [
        "pages[0].questions[0].show_if.answer (line 14): 'second' is not an earlier question"
    ]


def test_ids_are_unique_and_skips_go_forward_to_what_exists() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - {id: q, type: yes_no, label: {ja: 一}}
              - {id: q, type: yes_no, label: {ja: 二}}
            next:
              - {when: {answer: q, equals: true}, goto: exit:nowhere}
              - {when: {answer: q, equals: false}, goto: one}
        """)
    assert found == [
        "pages[0].questions[1].id (line 12): the id 'q' is used twice",
        "pages[0].next[0].goto (line 14): there is no exit called 'nowhere'",
        "pages[0].next[1].goto (line 15): 'one' is not a later page (a skip may only go forward)",
    ]


def test_a_comparison_takes_exactly_one_operator() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - {id: q, type: number, label: {ja: 一}}
              - id: r
                type: yes_no
                label: {ja: 二}
                show_if: {answer: q, at_least: 1, at_most: 3}
        """)
    assert len(found) == 1
    assert "exactly one of" in found[0]
    assert "(line 15)" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pages: [", "not valid YAML"),
        ("- just a list", "a definition is a mapping"),
    ],
)
def test_text_that_is_not_a_definition(text: str, expected: str) -> None:
    with pytest.raises(DefinitionError, match=expected):
        load_definition(text)


def test_the_json_schema_describes_the_format() -> None:
    schema = definition_json_schema()
    assert schema["$id"] == "https://madoguchi.jp/schemas/procedure-1.json"
    assert set(schema["required"]) >= {"format", "slug", "owner", "title", "pages"}
    json.dumps(schema)  # serialisable as published
    assert "short_text" in json.dumps(schema)


def test_definitions_are_immutable_values() -> None:
    definition = load_definition(EXAMPLES[0].read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="frozen"):
        definition.slug = "other"  # type: ignore[misc]
    assert Definition.model_validate(definition.model_dump(by_alias=True)) == definition


def test_problems_inside_nested_conditions_keep_their_path() -> None:
    found = problems_of("""\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - {id: q, type: number, label: {ja: 一}}
              - id: r
                type: yes_no
                label: {ja: 二}
                show_if:
                  all:
                    - {answer: q, at_least: 1}
                    - not: {answer: q, bigger: 3}
        """)
    assert found == [
        "pages[0].questions[1].show_if.all[1].not.bigger (line 18): Extra inputs are not permitted"
    ]


def test_conditions_may_use_a_computed_value_once_its_inputs_are_asked() -> None:
    body = """\
        pages:
          - id: one
            title: {ja: 一}
            questions:
              - {id: a, type: number, label: {ja: A}}
              - {id: b, type: number, label: {ja: B}}
              - id: big
                type: yes_no
                label: {ja: 大きい}
                show_if: {answer: total, greater_than: 100}
          - id: two
            title: {ja: 二}
            questions:
              - id: moved
                type: date
                label: {ja: 日付}
                show_if: {answer: total, at_least: 10}
              - id: late
                type: yes_no
                label: {ja: 遅い}
                show_if: {answer: moved, at_least: 2026-04-01}
        computed:
          - {id: total, label: {ja: 合計}, sum: [a, b]}
        """
    definition = load_definition(HEADER + dedent(body))
    assert definition.computed[0].id == "total"
    unknown = body.replace("sum: [a, b]", "sum: [a, late_number]")
    found = problems_of(unknown)
    assert "computed[0] (line 29): 'late_number' is not a question of this procedure" in found
    # total is never complete, so the conditions that use it refer to nothing asked before them
    assert any("show_if.answer (line 16): 'total' is not an earlier question" in p for p in found)
