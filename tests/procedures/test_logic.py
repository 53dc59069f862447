"""The logic engine: conditions, computed values, visibility, navigation, pruning, missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import NotFound
from madoguchi.procedures.definition import Compare, Condition, Definition, Group, Page
from madoguchi.procedures.logic import (
    End,
    Exit,
    NextPage,
    computed_values,
    evaluate,
    is_answered,
    missing_required,
    next_step,
    path,
    prune,
    visible_pages,
    visible_questions,
)

TODAY = dt.date(2026, 4, 1)


# --- Building definitions --------------------------------------------------------------------


def question(id_: str, type_: str = "short_text", **extra: Any) -> dict[str, Any]:
    if type_ == "guidance":
        return {"id": id_, "type": type_, "text": {"ja": id_}, **extra}
    if type_ == "choice":
        extra.setdefault("options", [{"value": v, "label": {"ja": v}} for v in ("a", "b", "c")])
    return {"id": id_, "type": type_, "label": {"ja": id_}, **extra}


def page(id_: str, *questions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": id_, "title": {"ja": id_}, "questions": list(questions), **extra}


def procedure(*pages: dict[str, Any], **extra: Any) -> Definition:
    return Definition.model_validate(
        {
            "format": "madoguchi.procedure/1",
            "slug": "logic-test",
            "owner": "131016",
            "title": {"ja": "試験"},
            "summary": {"ja": "試験"},
            "confirmation": {"ja": "受け付けました"},
            "pages": list(pages),
            **extra,
        }
    )


def cond(data: dict[str, Any]) -> Condition:
    condition = Page.model_validate(page("p", question("q"), show_if=data)).show_if
    assert condition is not None
    return condition


def holds(data: dict[str, Any], values: dict[str, Any]) -> bool:
    return evaluate(cond(data), values)


# --- Conditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [
        ({"equals": "yes"}, " yes ", True),
        ({"equals": "yes"}, "no", False),
        ({"equals": True}, True, True),
        ({"equals": True}, 1, False),  # a boolean is not a number
        ({"equals": 1}, True, False),
        ({"equals": 12.5}, "12.50", True),  # a decimal answer, compared as a number
        ({"equals": 3}, 3, True),
        ({"equals": "03"}, "3", False),  # two strings are text, not numbers
        ({"equals": 3}, "three", False),
        ({"equals": ["a", "b"]}, ["a", " b"], True),
        ({"equals": {"family": "山田"}}, {"family": "山田 "}, True),
        ({"equals": dt.date(2026, 1, 2)}, "2026-01-02", True),
        ({"not_equals": "a"}, "b", True),
        ({"not_equals": "a"}, "a", False),
        ({"not_equals": 2}, "2.0", False),
        ({"includes": "b"}, ["a", "b"], True),
        ({"includes": "c"}, ["a", "b"], False),
        ({"includes": "a"}, "a", False),  # only a list includes
        ({"greater_than": 3}, 4, True),
        ({"greater_than": 3}, 3, False),
        ({"greater_than": 0.1}, "0.10", False),  # exact: 0.1 is not a binary fraction here
        ({"less_than": 3}, "2.5", True),
        ({"less_than": 3}, "abc", False),
        ({"at_least": 65}, 65, True),
        ({"at_least": 65}, 64, False),
        ({"at_most": 0}, -1, True),
        ({"at_most": 0}, "1", False),
        ({"answered": True}, "x", True),
        ({"answered": True}, "  ", False),
        ({"answered": False}, [], True),
        ({"answered": True}, {"family": "", "given": ""}, False),
        ({"answered": True}, False, True),  # "no" is an answer
        ({"answered": True}, 0, True),
    ],
)
def test_compare(test: dict[str, Any], value: Any, expected: bool) -> None:
    assert holds({"answer": "x", **test}, {"x": value}) is expected


def test_dates_are_ordered_against_dates() -> None:
    # The model allows only numbers for ordering today; the engine already orders ISO dates.
    after = Compare.model_construct(answer="x", greater_than="2026-01-01")
    assert evaluate(after, {"x": "2026-01-02"})
    assert not evaluate(after, {"x": "2025-12-31"})
    assert not evaluate(after, {"x": "2026-13-40"})  # not a date: no order
    assert not evaluate(after, {"x": 20260102})  # a number is not a date
    until = Compare.model_construct(answer="x", at_most=dt.date(2026, 1, 1))
    assert evaluate(until, {"x": "2026-01-01"})


@pytest.mark.parametrize(
    "test",
    [
        {"equals": "a"},
        {"not_equals": "a"},
        {"includes": "a"},
        {"greater_than": 0},
        {"less_than": 0},
        {"at_least": 0},
        {"at_most": 0},
        {"answered": True},
    ],
)
@pytest.mark.parametrize("unanswered", [{}, {"x": None}, {"x": ""}, {"x": []}])
def test_an_unanswered_question_makes_every_comparison_false(
    test: dict[str, Any], unanswered: dict[str, Any]
) -> None:
    assert not holds({"answer": "x", **test}, unanswered)
    assert holds({"not": {"answer": "x", **test}}, unanswered)


def test_answered_false_holds_while_unanswered() -> None:
    assert holds({"answer": "x", "answered": False}, {})


def test_all_any_not() -> None:
    values = {"a": 1, "b": "x"}
    yes, no = {"answer": "a", "equals": 1}, {"answer": "b", "equals": "y"}
    assert holds({"all": [yes, {"answer": "b", "equals": "x"}]}, values)
    assert not holds({"all": [yes, no]}, values)
    assert holds({"any": [no, yes]}, values)
    assert not holds({"any": [no, no]}, values)
    assert holds({"not": no}, values)
    assert holds({"not": {"not": yes}}, values)


def test_a_choice_with_other_is_compared_by_the_options_chosen() -> None:
    checked = {"reasons": {"value": ["moved_in", "other"], "other": "転勤"}}
    one = {"reason": {"value": "other", "other": "転勤"}}
    assert holds({"answer": "reasons", "includes": "moved_in"}, checked)
    assert holds({"answer": "reasons", "includes": "other"}, checked)
    assert not holds({"answer": "reasons", "includes": "born"}, checked)
    assert holds({"answer": "reason", "equals": "other"}, one)
    assert not holds({"answer": "reason", "equals": "転勤"}, one)


def test_is_answered() -> None:
    assert is_answered([{}])  # a group with one (empty) item has an item
    assert not is_answered({})


# --- Computed values -------------------------------------------------------------------------


def counted(**formula: Any) -> Definition:
    return procedure(
        page(
            "p",
            question("n1", "number"),
            question("n2", "number"),
            question("dob", "date_of_birth"),
        ),
        computed=[{"id": "c", "label": {"ja": "計"}, **formula}],
    )


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"n1": 2, "n2": 3}, 5),
        ({"n1": 2}, 2),
        ({}, 0),
        ({"n1": "0.10", "n2": "0.20"}, "0.30"),  # exact, not 0.30000000000000004
        ({"n1": 1, "n2": "2.5"}, "3.5"),
        ({"n1": True, "n2": "abc"}, 0),  # not numbers: counted as nothing
    ],
)
def test_sum(answers: dict[str, Any], expected: int | str) -> None:
    assert computed_values(counted(sum=["n1", "n2"]), answers, TODAY) == {"c": expected}


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        ("1960-04-01", dt.date(2026, 4, 1), 66),
        ("1960-04-02", dt.date(2026, 4, 1), 65),
        ("2024-02-29", dt.date(2025, 2, 28), 0),
        ("2024-02-29", dt.date(2025, 3, 1), 1),
        ("2024-02-29", dt.date(2028, 2, 29), 4),
        ("2026-04-01", dt.date(2026, 4, 1), 0),
    ],
)
def test_age_of(born: str, today: dt.date, age: int) -> None:
    assert computed_values(counted(age_of="dob"), {"dob": born}, today) == {"c": age}


@pytest.mark.parametrize("born", [None, "", "not a date", "2027-01-01"])
def test_age_of_an_unknown_birth_is_left_out(born: Any) -> None:
    assert computed_values(counted(age_of="dob"), {"dob": born}, TODAY) == {}


def test_count_of_a_group_and_a_sum_of_computed_values() -> None:
    definition = procedure(
        page("p", question("kids", "group", questions=[question("name")])),
        computed=[
            {"id": "k", "label": {"ja": "人数"}, "count_of": "kids"},
            {"id": "t", "label": {"ja": "計"}, "sum": ["k", "k"]},
        ],
    )
    assert computed_values(definition, {"kids": [{}, {"name": "a"}]}, TODAY) == {"k": 2, "t": 4}
    assert computed_values(definition, {}, TODAY) == {"k": 0, "t": 0}


# --- Visibility ------------------------------------------------------------------------------


def test_visible_questions_include_guidance_and_hide_by_condition() -> None:
    shown = Page.model_validate(
        page(
            "p",
            question("note", "guidance"),
            question("a", "yes_no"),
            question("b", show_if={"answer": "a", "equals": True}),
            question("c", show_if={"answer": "b", "answered": False}),
        )
    )
    assert [q.id for q in visible_questions(shown, {"a": True, "b": "x"})] == ["note", "a", "b"]
    # b is hidden, so its stale answer counts as unanswered for c
    assert [q.id for q in visible_questions(shown, {"a": False, "b": "x"})] == ["note", "a", "c"]


def test_visible_pages_include_skipped_ones() -> None:
    definition = procedure(
        page(
            "one",
            question("a", "yes_no"),
            next=[{"when": {"answer": "a", "equals": True}, "goto": "three"}],
        ),
        page("two", question("b")),
        page("three", question("c"), show_if={"answer": "a", "answered": True}),
    )
    assert [p.id for p in visible_pages(definition, {"a": True}, TODAY)] == ["one", "two", "three"]
    assert [p.id for p in visible_pages(definition, {}, TODAY)] == ["one", "two"]


# --- Navigation ------------------------------------------------------------------------------


@pytest.fixture
def journey() -> Definition:
    return procedure(
        page(
            "start",
            question("resident", "yes_no"),
            question("dob", "date_of_birth"),
            next=[
                {"when": {"answer": "resident", "equals": False}, "goto": "exit:not_resident"},
                {"when": {"answer": "age", "at_least": 65}, "goto": "senior"},
            ],
        ),
        page("work", question("job")),
        page("hidden", question("h"), show_if={"answer": "job", "equals": "none"}),
        page(
            "senior",
            question("pension", "yes_no"),
            next=[{"when": {"answer": "pension", "equals": False}, "goto": "end"}],
        ),
        page("last", question("notes", required=False), show_if={"answer": "age", "less_than": 80}),
        exits=[{"id": "not_resident", "message": {"ja": "対象外です"}}],
        computed=[{"id": "age", "label": {"ja": "年齢"}, "age_of": "dob"}],
    )


YOUNG = {"resident": True, "dob": "1990-05-05", "job": "teacher", "pension": True}


def test_no_rule_holds_so_go_to_the_next_visible_page(journey: Definition) -> None:
    assert next_step(journey, "start", YOUNG, TODAY) == NextPage("work")
    assert next_step(journey, "work", YOUNG, TODAY) == NextPage("senior")  # "hidden" is hidden
    assert next_step(journey, "work", {**YOUNG, "job": "none"}, TODAY) == NextPage("hidden")


def test_a_rule_skips_to_a_later_page(journey: Definition) -> None:
    senior = {"resident": True, "dob": "1950-01-01"}
    assert next_step(journey, "start", senior, TODAY) == NextPage("senior")


def test_rules_apply_in_order(journey: Definition) -> None:
    both = {"resident": False, "dob": "1950-01-01"}  # the exit comes first
    assert next_step(journey, "start", both, TODAY) == Exit("not_resident")


def test_a_rule_ends_the_journey(journey: Definition) -> None:
    assert next_step(journey, "senior", {**YOUNG, "pension": False}, TODAY) == End()


def test_after_the_last_visible_page_the_journey_ends(journey: Definition) -> None:
    old = {"resident": True, "dob": "1930-01-01", "pension": True}
    assert next_step(journey, "senior", old, TODAY) == End()  # "last" is hidden at 96
    assert next_step(journey, "last", YOUNG, TODAY) == End()


def test_a_skip_to_a_hidden_page_goes_on_to_the_next_visible_one() -> None:
    definition = procedure(
        page(
            "one",
            question("a", "yes_no"),
            next=[{"when": {"answer": "a", "equals": True}, "goto": "three"}],
        ),
        page("two", question("b")),
        page("three", question("c"), show_if={"answer": "a", "equals": False}),
        page("four", question("d")),
    )
    assert next_step(definition, "one", {"a": True}, TODAY) == NextPage("four")
    assert path(definition, {"a": True}, TODAY) == ["one", "four"]


def test_an_unknown_page_is_not_found(journey: Definition) -> None:
    with pytest.raises(NotFound):
        next_step(journey, "nowhere", {}, TODAY)


def test_path(journey: Definition) -> None:
    assert path(journey, YOUNG, TODAY) == ["start", "work", "senior", "last"]
    senior = {"resident": True, "dob": "1950-01-01"}
    assert path(journey, senior, TODAY) == ["start", "senior", "last"]
    assert path(journey, {"resident": False}, TODAY) == ["start"]
    assert path(journey, {}, TODAY) == ["start", "work", "senior"]  # no age: "last" not shown


def test_the_path_starts_at_the_first_visible_page() -> None:
    definition = procedure(
        page("never", question("a"), show_if={"answer": "count", "at_least": 1}),
        page("first", question("b")),
        computed=[{"id": "count", "label": {"ja": "数"}, "sum": ["a"]}],
    )
    assert path(definition, {"a": 5}, TODAY) == ["first"]  # a is never kept, so count is 0


# --- Pruning and missing answers -------------------------------------------------------------


def test_prune_drops_hidden_and_skipped_answers(journey: Definition) -> None:
    kept = {"resident": True, "dob": "1950-01-01", "pension": True}
    assert prune(journey, {**kept, "job": "x", "h": "y", "stray": 1}, TODAY) == kept


def test_prune_groups_item_by_item() -> None:
    definition = procedure(
        page(
            "p",
            question("disabled", "yes_no"),
            question(
                "kids",
                "group",
                questions=[
                    question("school", "yes_no"),
                    question("grade", "number", show_if={"answer": "school", "equals": True}),
                    question("aid", show_if={"answer": "disabled", "equals": True}),
                    question("tip", "guidance"),
                ],
            ),
        )
    )
    answers = {
        "disabled": False,
        "kids": [
            {"school": True, "grade": 3, "aid": "x", "tip": 1},
            {"school": False, "grade": 2},
            "junk",
        ],
    }
    assert prune(definition, answers, TODAY) == {
        "disabled": False,
        "kids": [{"school": True, "grade": 3}, {"school": False}],
    }


def test_missing_required(journey: Definition) -> None:
    assert missing_required(journey, {}, TODAY) == ["resident", "dob", "job", "pension"]
    assert missing_required(journey, YOUNG, TODAY) == []  # notes is optional
    assert missing_required(journey, {"resident": False}, TODAY) == ["dob"]


NICK = question("nick", required=False)


def test_missing_declarations_and_groups() -> None:
    definition = procedure(
        page(
            "p",
            question("agree", "declaration"),
            question("kids", "group", min_items=2, questions=[question("name"), NICK]),
            question("pets", "group", required=False, min_items=2, questions=[question("kind")]),
        )
    )
    assert missing_required(definition, {"agree": False}, TODAY) == ["agree", "kids"]
    answers = {"agree": True, "kids": [{"name": "a"}, {"nick": "b"}], "pets": [{"kind": "cat"}]}
    assert missing_required(definition, answers, TODAY) == ["kids[1].name", "pets"]
    assert missing_required(definition, {"agree": True, "kids": [{"name": "a"}] * 2}, TODAY) == []


# --- Properties over random small definitions ------------------------------------------------

KINDS = ("yes_no", "number", "choice", "checkboxes", "group")
TESTS = {
    "yes_no": st.sampled_from([{"equals": True}, {"equals": False}, {"not_equals": True}]),
    "number": st.sampled_from(
        ["equals", "greater_than", "less_than", "at_least", "at_most"]
    ).flatmap(lambda operator: st.fixed_dictionaries({operator: st.integers(-2, 2)})),
    "choice": st.sampled_from([{"equals": "a"}, {"not_equals": "b"}]),
    "checkboxes": st.sampled_from([{"includes": "a"}, {"includes": "c"}]),
    "total": st.fixed_dictionaries({"at_least": st.integers(-2, 4)}),
    "group": st.nothing(),
}
ANSWERED = st.fixed_dictionaries({"answered": st.booleans()})
Earlier = list[tuple[str, str]]


def pick(draw: st.DrawFn, choices: Sequence[Any]) -> Any:
    return choices[draw(st.integers(0, len(choices) - 1))]


def leaf(draw: st.DrawFn, earlier: Earlier) -> dict[str, Any]:
    answer, kind = pick(draw, earlier)
    return {"answer": answer, **draw(TESTS[kind] | ANSWERED)}


def condition(draw: st.DrawFn, earlier: Earlier, depth: int = 2) -> dict[str, Any]:
    if depth == 0 or draw(st.integers(0, 2)):
        return leaf(draw, earlier)
    parts = [condition(draw, earlier, depth - 1) for _ in range(draw(st.integers(1, 2)))]
    return pick(draw, [{"all": parts}, {"any": parts}, {"not": parts[0]}])


def questions(draw: st.DrawFn, prefix: str, earlier: Earlier, group: bool) -> list[dict[str, Any]]:
    made = []
    for index in range(draw(st.integers(1, 3))):
        id_, kind = f"{prefix}{index}", pick(draw, KINDS if group else KINDS[:-1])
        extra: dict[str, Any] = {"required": draw(st.booleans())}
        if earlier and draw(st.booleans()):
            extra["show_if"] = condition(draw, earlier)
        if kind == "group":
            extra["questions"] = questions(draw, f"{id_}_", earlier, group=False)
            extra["min_items"] = draw(st.integers(0, 2))
        elif kind == "checkboxes":
            extra["style"] = "checkboxes"
        made.append(question(id_, "choice" if kind == "checkboxes" else kind, **extra))
        earlier = [*earlier, (id_, kind)]
    return made


def skips(draw: st.DrawFn, earlier: Earlier, targets: list[str]) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 2))
    return [{"when": condition(draw, earlier), "goto": pick(draw, targets)} for _ in range(count)]


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    earlier: Earlier = []
    pages: list[dict[str, Any]] = []
    count = draw(st.integers(1, 4))
    for index in range(count):
        extra: dict[str, Any] = {}
        if earlier and draw(st.booleans()):
            extra["show_if"] = condition(draw, earlier)
        made = questions(draw, f"q{index}_", earlier, group=True)
        earlier += [(q["id"], q.get("style", q["type"])) for q in made]
        targets = [f"p{later}" for later in range(index + 1, count)] + ["end", "exit:stop"]
        pages.append(page(f"p{index}", *made, next=skips(draw, earlier, targets), **extra))
        if index == 0:  # computed over the first page only, so later conditions may use it
            earlier.append(("total", "total"))
    numbers = [q["id"] for q in pages[0]["questions"] if q["type"] == "number"] or ["q0_0"]
    total = {"id": "total", "label": {"ja": "計"}, "sum": numbers}
    return procedure(*pages, exits=[{"id": "stop", "message": {"ja": "終"}}], computed=[total])


Case = tuple[Definition, dict[str, Any]]
ANSWER = {
    "yes_no": st.booleans(),
    "number": st.one_of(st.integers(-3, 3), st.sampled_from(["1.5", "-0.5"])),
    "choice": st.sampled_from(["a", "b", "c", " a "]),
    "checkboxes": st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
}


def answers_for(draw: st.DrawFn, items: list[Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in items:
        kind = "checkboxes" if getattr(item, "style", None) == "checkboxes" else item.type
        if kind == "guidance" or not draw(st.integers(0, 4)):
            continue
        if isinstance(item, Group):
            count = draw(st.integers(0, 3))
            answers[item.id] = [answers_for(draw, item.questions) for _ in range(count)]
        else:
            answers[item.id] = draw(st.one_of(ANSWER[kind], st.none()))
    return answers


@st.composite
def cases(draw: st.DrawFn) -> Case:
    definition = draw(definitions())
    items = [q for p in definition.pages for q in p.questions]
    return definition, {**answers_for(draw, items), "stray": draw(st.booleans())}


def shown(definition: Definition, answers: dict[str, Any]) -> tuple[set[str], dict[str, Any]]:
    """The ids of the questions shown on the path, judged through the public functions."""
    kept = prune(definition, answers, TODAY)
    values = {**kept, **computed_values(definition, kept, TODAY)}
    pages = {p.id: p for p in definition.pages}
    route = [pages[page_id] for page_id in path(definition, answers, TODAY)]
    ids = {q.id for page in route for q in visible_questions(page, values)}
    return ids, values


@given(cases())
def test_hidden_questions_are_never_kept_nor_missing(case: Case) -> None:
    definition, answers = case
    ids, values = shown(definition, answers)
    kept = prune(definition, answers, TODAY)
    assert set(kept) <= ids
    assert {name.split("[")[0] for name in missing_required(definition, answers, TODAY)} <= ids
    asked = [q for p in definition.pages for q in p.questions]
    groups = [q for q in asked if isinstance(q, Group) and q.id in kept]
    for group in groups:
        for item in kept[group.id]:
            assert set(item) <= {q.id for q in visible_questions(group, {**values, **item})}


@given(cases())
def test_prune_is_idempotent_and_keeps_the_path(case: Case) -> None:
    definition, answers = case
    kept = prune(definition, answers, TODAY)
    assert prune(definition, kept, TODAY) == kept
    assert path(definition, kept, TODAY) == path(definition, answers, TODAY)
    assert missing_required(definition, kept, TODAY) == missing_required(definition, answers, TODAY)


@given(cases())
def test_the_path_is_visible_and_followed_by_next_step(case: Case) -> None:
    definition, answers = case
    route = path(definition, answers, TODAY)
    assert set(route) <= {p.id for p in visible_pages(definition, answers, TODAY)}
    steps = [next_step(definition, page_id, answers, TODAY) for page_id in route]
    assert steps[:-1] == [NextPage(page_id) for page_id in route[1:]]
    assert not route or not isinstance(steps[-1], NextPage)
