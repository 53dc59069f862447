"""The JSON Schema of a submission body: generated per version, served for ever, and true to the
server — every body the server accepts is valid against it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.settings import Settings
from madoguchi.procedures.answer_schema import (
    CORPORATE_NUMBER,
    MY_NUMBER,
    POSTAL_CODE,
    answer_schema,
)
from madoguchi.procedures.answers import AnswerContext
from madoguchi.procedures.definition import Definition, Signature
from madoguchi.procedures.examples import EXAMPLES
from madoguchi.procedures.loader import load_definition
from madoguchi.procedures.validation import check_answers
from tests.submissions.examples import (
    MOVING,
    OPINION,
    moving_id,
    procedure_id,
    subsidy,
)
from tests.submissions.test_api_signature import card_signature, payload
from tests.support.cards import HANAKO, issue
from tests.support.samples import PDF

jsonschema_rs = pytest.importorskip("jsonschema_rs")

DAY = dt.date(2026, 12, 10)
SCHEMA_ID = "https://madoguchi.example/api/v1/procedures/x/versions/1/schema.json"
EVERY_TYPE = """
format: madoguchi.procedure/1
slug: every-type
owner: soumu
title: {ja: すべての種類, en: Every type}
summary: {ja: 試験用}
pages:
  - id: first
    title: {ja: 最初}
    questions:
      - {id: note, type: guidance, text: {ja: 説明}}
      - {id: short, type: short_text, max_length: 20, label: {ja: 短文}}
      - {id: long, type: long_text, min_length: 5, label: {ja: 長文}}
      - {id: count, type: number, minimum: 1, maximum: 9, label: {ja: 数}}
      - {id: ratio, type: number, integer: false, required: false, label: {ja: 率}}
      - {id: day, type: date, label: {ja: 日付}}
      - id: colour
        type: choice
        label: {ja: 色}
        other: true
        options: [{value: red, label: {ja: 赤}}, {value: blue, label: {ja: 青}}]
      - id: sizes
        type: choice
        style: checkboxes
        max_selected: 2
        label: {ja: 大きさ}
        options: [{value: s, label: {ja: 小}}, {value: m, label: {ja: 中}}]
      - {id: agree, type: yes_no, label: {ja: 同意}}
      - {id: mail, type: email, label: {ja: メール}}
      - {id: tel, type: phone, label: {ja: 電話}}
      - {id: home, type: address, label: {ja: 住所}}
      - {id: who, type: person_name, label: {ja: 氏名}}
      - {id: born, type: date_of_birth, label: {ja: 生年月日}}
      - {id: mynumber, type: my_number, label: {ja: マイナンバー}}
      - {id: company, type: corporate_number, label: {ja: 法人番号}}
      - {id: account, type: bank_account, label: {ja: 口座}}
      - {id: papers, type: file, max_files: 2, label: {ja: 書類}}
      - {id: city, type: local_government, label: {ja: 市区町村}}
      - id: children
        type: group
        min_items: 1
        label: {ja: 子}
        questions:
          - {id: child_name, type: short_text, label: {ja: 名前}}
          - {id: child_note, type: short_text, required: false, label: {ja: 備考}}
      - {id: sure, type: declaration, label: {ja: 宣誓}}
    next:
      - when: {answer: agree, equals: false}
        goto: last
  - id: skipped
    title: {ja: 飛ばされることがある}
    questions:
      - {id: maybe, type: short_text, label: {ja: 飛ばされる質問}}
  - id: hidden
    title: {ja: 隠れることがある}
    show_if: {answer: count, greater_than: 5}
    questions:
      - {id: big, type: short_text, label: {ja: 大きい}}
  - id: last
    title: {ja: 最後}
    questions:
      - {id: final, type: short_text, label: {ja: 最後の質問}}
      - {id: why, type: short_text, label: {ja: 理由}, show_if: {answer: agree, equals: false}}
confirmation: {ja: 受け付けました。}
"""


EVERY_ANSWERS: dict[str, Any] = {
    "short": "短い",
    "long": "長い文章です。",
    "count": 7,
    "ratio": "2.5",
    "day": "令和8年4月1日",
    "colour": {"value": "other", "other": "緑"},
    "sizes": ["m", "s"],
    "agree": True,
    "mail": "taro@example.jp",
    "tel": "090-1234-5678",
    "home": {"postal_code": "100-0001", "street": "1-1"},
    "who": {"family": "山田", "given": "太郎", "family_kana": "やまだ", "given_kana": "タロウ"},
    "born": "1990-01-02",
    "mynumber": "1234 5678 9018",
    "company": "5835678256246",
    "account": {
        "bank": "0001",
        "branch": "001",
        "type": "普通",
        "number": "123",
        "holder": "ヤマダ タロウ",
    },
    "papers": ["0" * 64 + "/a.pdf"],
    "city": "131016",
    "children": [{"child_name": "花子"}],
    "sure": True,
    "maybe": "はい",
    "big": "大",
    "final": "おわり",
}


def example(slug: str) -> Definition:
    return load_definition((EXAMPLES / f"{slug}.yaml").read_text())


def validator(definition: Definition) -> Any:
    schema = answer_schema(definition, SCHEMA_ID)
    assert jsonschema_rs.meta.is_valid(schema)
    return jsonschema_rs.validator_for(schema)


def answers_of(definition: Definition) -> dict[str, Any]:
    return answer_schema(definition, SCHEMA_ID)["properties"]["answers"]  # type: ignore[no-any-return]


# --- Generated from the definition ----------------------------------------------------------


def test_the_schema_is_draft_2020_12_with_its_own_address() -> None:
    schema = answer_schema(example("change-of-address"), SCHEMA_ID)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["required"] == ["answers"] and schema["additionalProperties"] is False
    assert "届け出た内容に誤りはありません" in schema["description"]


def test_only_questions_every_applicant_is_asked_are_required() -> None:
    answers = answers_of(load_definition(EVERY_TYPE))
    assert "note" not in answers["properties"]  # guidance asks nothing
    assert answers["required"] == [
        "short", "long", "count", "day", "colour", "sizes", "agree", "mail", "tel", "home",
        "who", "born", "mynumber", "company", "account", "papers", "city", "children", "sure",
        "final",
    ]  # fmt: skip
    # a skip can jump over "skipped"; "hidden" has show_if; "why" has show_if
    for optional in ("maybe", "big", "why"):
        assert "server decides" in answers["properties"][optional]["description"]
    assert "description" not in answers["properties"]["final"]
    consultation = answers_of(example("metaverse-consultation"))
    assert consultation["required"] == ["anonymous", "topics"]
    # a skip to an exit ends without a submission: the later pages are asked of everyone who
    # can submit
    assert answers_of(example("small-business-subsidy"))["required"] == [
        "corporate_number", "employees", "equipment_cost", "service_cost", "quotes",
        "bank_account",
    ]  # fmt: skip


def test_a_skip_to_the_end_makes_the_rest_optional() -> None:
    source = EVERY_TYPE.replace("goto: last", "goto: end")
    assert "final" not in answers_of(load_definition(source))["required"]


def test_choices_are_enums_and_identifiers_have_patterns() -> None:
    properties = answers_of(load_definition(EVERY_TYPE))["properties"]
    plain, with_text = properties["colour"]["anyOf"]
    assert plain == {"enum": ["red", "blue"]}
    assert with_text["properties"]["value"] == {"enum": ["red", "blue", "other"]}
    assert properties["sizes"]["items"] == {"enum": ["s", "m"]}
    assert properties["sizes"]["maxItems"] == 2
    assert properties["mynumber"]["pattern"] == MY_NUMBER
    assert properties["company"]["pattern"] == CORPORATE_NUMBER
    assert properties["home"]["properties"]["postal_code"]["pattern"] == POSTAL_CODE
    assert properties["children"]["items"]["required"] == ["child_name"]
    assert properties["children"]["minItems"] == 1


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            POSTAL_CODE,
            ["100-0001", "1000001", "〒１００－０００１"],
            ["100-001", "10000011", "abc"],
        ),
        (MY_NUMBER, ["123456789018", "1234 5678 9018"], ["12345678901", "1234567890123"]),
        (CORPORATE_NUMBER, ["5835678256246", "5-8356-7825-6246"], ["583567825624", "x" * 13]),
    ],
)
def test_the_patterns_take_digits_as_people_type_them(
    pattern: str, good: list[str], bad: list[str]
) -> None:
    check = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    assert all(check.is_valid(text) for text in good)
    assert not any(check.is_valid(text) for text in bad)


def test_every_type_accepts_what_the_server_accepts(tmp_path: Any) -> None:
    context = AnswerContext.of(Settings(data_dir=tmp_path, secret_key="x" * 40))
    ref = context.store.store(PDF).sha256 + "/a.pdf"
    definition = load_definition(EVERY_TYPE)
    answers = {**EVERY_ANSWERS, "papers": [ref]}
    check_answers(definition, answers, DAY, context)
    assert validator(definition).is_valid({"answers": answers})


@pytest.mark.parametrize(
    "change",
    [
        {"agree": "maybe"},
        {"colour": "green"},
        {"sizes": ["s", "s"]},
        {"children": []},
        {"sure": False},
        {"who": {"family": "山田", "family_kana": "ヤマダ", "given": "太郎"}},
        {"account": {"bank": "1", "branch": "001", "type": "普通", "number": "1", "holder": "A"}},
        {"unknown": "x"},
    ],
)
def test_what_the_schema_refuses(change: dict[str, Any]) -> None:
    check = validator(load_definition(EVERY_TYPE))
    assert check.is_valid({"answers": EVERY_ANSWERS})
    assert not check.is_valid({"answers": {**EVERY_ANSWERS, **change}})


def test_the_example_procedures_accept_the_same_answers_as_the_server(tmp_path: Any) -> None:
    context = AnswerContext.of(Settings(data_dir=tmp_path, secret_key="x" * 40))
    ref = context.store.store(PDF).sha256 + "/quote.pdf"
    for slug, answers in [
        ("change-of-address", MOVING),
        ("metaverse-consultation", OPINION),
        ("metaverse-consultation", {**OPINION, "anonymous": True, "name": "hidden: dropped"}),
        ("small-business-subsidy", subsidy(ref)),
    ]:
        definition = example(slug)
        check_answers(definition, answers, DAY, context)  # the server accepts them…
        body: dict[str, Any] = {"answers": answers}
        if definition.signature is Signature.REQUIRED:
            body["signature"] = "MAA="  # its checking is the server's, not the schema's
        errors = [e.message for e in validator(definition).iter_errors(body)]
        assert errors == [], slug  # …and so does the schema


# --- Served over HTTP -------------------------------------------------------------------------


def test_a_published_version_schema_is_served_for_ever(
    client: TestClient, settings: Settings
) -> None:
    procedure = moving_id(client)
    path = f"/api/v1/procedures/{procedure}/versions/1/schema.json"
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    schema = response.json()
    assert schema["$id"] == settings.resolved_public_url() + path
    assert jsonschema_rs.validator_for(schema).is_valid({"answers": MOVING})


def test_the_current_schema_redirects_to_its_version(client: TestClient) -> None:
    procedure = moving_id(client)
    response = client.get(f"/api/v1/procedures/{procedure}/schema.json", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/api/v1/procedures/{procedure}/versions/1/schema.json"
    assert response.headers["cache-control"] == "no-cache"


def test_a_version_never_published_has_no_schema(client: TestClient) -> None:
    procedure = moving_id(client)
    for path in (
        f"/api/v1/procedures/{procedure}/versions/2/schema.json",
        "/api/v1/procedures/00000000-0000-7000-8000-000000000000/versions/1/schema.json",
        "/api/v1/procedures/00000000-0000-7000-8000-000000000000/schema.json",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_what_the_api_accepts_is_valid_against_the_served_schema(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    procedure = procedure_id(client, "meti", "small-business-subsidy")
    uploaded = client.post(
        f"/api/v1/procedures/{procedure}/files",
        params={"question": "quotes"},
        files={"file": ("quote.pdf", PDF, "application/pdf")},
    )
    answers = subsidy(uploaded.json()["ref"])
    to_sign = payload(client, procedure, answers).content
    card = issue(database_url, settings, HANAKO).card_number
    signature = card_signature(database_url, settings, card, to_sign)
    body = {"answers": answers, "signature": signature}
    submitted = client.post(f"/api/v1/procedures/{procedure}/submissions", json=body)
    assert submitted.status_code == 201, submitted.text
    version = submitted.json()["version"]
    schema = client.get(f"/api/v1/procedures/{procedure}/versions/{version}/schema.json").json()
    assert jsonschema_rs.validator_for(schema).is_valid(body)
    assert not jsonschema_rs.validator_for(schema).is_valid({"answers": answers})
