"""Every question type's control on a page, without JavaScript: accessible in both languages,
answered, kept, shown back (a My Number only masked), and a draft that keeps its version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.procedures import service as procedures
from madoguchi.submissions.models import Submission
from tests.submissions.journey_support import (
    answers_shown,
    error_summary,
    field_value,
    form_of,
    inline_errors,
    send,
)
from tests.submissions.test_journey import CONSULTATION, about_you, opinions, start
from tests.support.html import Page, accessibility_problems, get_page
from tests.support.samples import EXE, PDF, PNG

EVERY_CONTROL = """
format: madoguchi.procedure/1
slug: every-control
owner: soumu
title: {ja: すべての項目の確認, en: Every kind of question}
summary: {ja: 試験のための手続です。, en: A procedure for tests.}
pages:
  - id: text
    title: {ja: 文字と数, en: Text and numbers}
    questions:
      - id: intro
        type: guidance
        text: {ja: はじめにお読みください。, en: Please read this first.}
      - {id: subject, type: short_text, max_length: 20, label: {ja: 件名, en: Subject}}
      - {id: body, type: long_text, max_length: 100, label: {ja: 本文, en: Message}}
      - id: count
        type: number
        minimum: 1
        unit: {ja: 個, en: pieces}
        label: {ja: 個数, en: How many}
      - id: price
        type: number
        integer: false
        required: false
        label: {ja: 単価, en: Unit price}
      - {id: day, type: date, label: {ja: 日付, en: Date}}
      - {id: contact, type: email, label: {ja: メール, en: Email}}
      - {id: phone, type: phone, label: {ja: 電話番号, en: Phone}}
  - id: choices
    title: {ja: 選択, en: Choices}
    questions:
      - id: colour
        type: choice
        other: true
        label: {ja: 色, en: Colour}
        options:
          - {value: red, label: {ja: 赤, en: Red}}
          - {value: blue, label: {ja: 青}}
      - id: fruit
        type: choice
        style: select
        other: true
        label: {ja: 果物, en: Fruit}
        options:
          - {value: apple, label: {ja: りんご, en: Apple}}
      - id: sports
        type: choice
        style: checkboxes
        other: true
        max_selected: 2
        label: {ja: 運動, en: Sports}
        options:
          - {value: run, label: {ja: 走る, en: Running}}
          - {value: swim, label: {ja: 泳ぐ, en: Swimming}}
      - {id: agree, type: yes_no, label: {ja: 同意しますか, en: Do you agree?}}
      - {id: promise, type: declaration, label: {ja: 約束します, en: I promise}}
  - id: identity
    title: {ja: 本人と口座, en: You and your account}
    questions:
      - {id: person, type: person_name, label: {ja: 氏名, en: Name}}
      - {id: born, type: date_of_birth, min_age: 18, label: {ja: 生年月日, en: Date of birth}}
      - {id: my_number, type: my_number, label: {ja: 個人番号, en: My Number}}
      - {id: company, type: corporate_number, label: {ja: 法人番号, en: Corporate number}}
      - {id: account, type: bank_account, label: {ja: 口座, en: Bank account}}
      - {id: town_hall, type: local_government, label: {ja: 市区町村, en: Local government}}
      - {id: papers, type: file, max_files: 2, label: {ja: 書類, en: Documents}}
      - {id: home, type: address, required: false, label: {ja: 住所, en: Address}}
declaration: {ja: 以上のとおり申請します。, en: I apply as above.}
confirmation: {ja: 受け付けました。, en: Received.}
"""
TEXT = {
    "subject": "テスト",
    "body": "一行目\n二行目",
    "count": "１,２００",
    "price": "12.50",
    "day": "R6.4.1",
    "contact": "taro@example.jp",
    "phone": "０９０-１２３４-５６７８",
}
CHOICES = {
    "colour": "other",
    "colour.other": "緑",
    "fruit": "other",
    "fruit.other": "みかん",
    "sports": ["swim", "other"],
    "sports.other": "山登り",
    "agree": "yes",
    "promise": "yes",
}
IDENTITY = {
    "person.family": "山田",
    "person.given": "太郎",
    "person.family_kana": "ヤマダ",
    "person.given_kana": "たろう",
    "born": "昭和55年1月2日",
    "my_number": "1234 5678 9018",
    "company": "5835678256246",
    "account.bank": "0001",
    "account.branch": "001",
    "account.type": "ordinary",
    "account.number": "1234",
    "account.holder": "やまだ たろう",
    "town_hall": "札幌市",
}


async def publish(session: AsyncSession, source: str) -> None:
    draft = await procedures.save_draft(session, "soumu", source)
    procedure = await procedures.get_procedure(session, "soumu", draft_slug(source))
    await procedures.publish(session, procedure, draft.version)
    await session.commit()


def draft_slug(source: str) -> str:
    return next(
        line.split(":")[1].strip() for line in source.splitlines() if line.startswith("slug")
    )


EVERY = "/bodies/soumu/procedures/every-control"


async def test_every_control_answered_kept_and_shown_back(
    client: TestClient, session: AsyncSession
) -> None:
    await publish(session, EVERY_CONTROL)
    page = start(client, EVERY, "en")
    assert "Please read this first." in page.main.text
    assert page.by_id("count-unit").text == "pieces"
    response, page = send(client, page, TEXT)
    assert str(response.url).endswith("/pages/choices"), error_summary(page)
    response, page = send(client, page, CHOICES)
    assert str(response.url).endswith("/pages/identity"), error_summary(page)

    pdf = [("papers.upload", ("申請書.pdf", PDF, "application/pdf"))]
    response, page = send(client, page, {**IDENTITY, "company": "1234"}, files=pdf)
    assert list(inline_errors(page)) == ["company"]
    # the My Number passed: it is kept, shown only masked, never typed back into the form
    assert "●●●● ●●●● 9018" in page.main.text
    assert field_value(page, "my_number") == ""
    assert "123456789018" not in response.text and "1234 5678 9018" not in response.text
    assert field_value(page, "town_hall") == "011002"
    assert next(iter(form_of(page).fields["papers.ref"])).endswith("/申請書.pdf")
    typed = {**IDENTITY, "company": "5835678256246", "my_number": ""}
    response, check = send(client, page, typed)
    assert str(response.url).endswith("/check"), error_summary(check)

    rows = answers_shown(check)
    assert rows["How many"] == "1,200 pieces"
    assert rows["Date"] == "1 April 2024"
    assert rows["Colour"] == "Other: 緑"
    assert rows["Fruit"] == "Other: みかん"
    assert rows["Sports"] == "Swimming, Other: 山登り"
    assert rows["Name"] == "山田 太郎（ヤマダ タロウ）"
    assert rows["My Number"] == "●●●● ●●●● 9018"
    assert (
        rows["Bank account"] == "みずほ 東京営業部 Ordinary 0001234 ヤマダ タロウ"
    )  # 　 as a space
    assert rows["Local government"] == "札幌市 (011002)"
    assert rows["Documents"] == "申請書.pdf (1 KB)"
    assert rows["Address"] == "Not answered"
    assert accessibility_problems(check, "en") == []

    response, _receipt = send(
        client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
    )
    submission = (await session.scalars(select(Submission))).one()
    assert submission.answers["my_number"]["last4"] == "9018"
    assert "123456789018" not in str(submission.answers)
    assert submission.answers["count"] == 1200 and submission.answers["price"] == "12.50"
    assert "home" not in submission.answers


async def test_every_control_is_accessible_in_both_languages_with_and_without_errors(
    client: TestClient, session: AsyncSession
) -> None:
    await publish(session, EVERY_CONTROL)
    for language in ("ja", "en"):
        page = start(client, EVERY, language)
        assert accessibility_problems(page, language) == []
        wrong = {"count": "0", "day": "R6.2.30", "contact": "x", "body": "x" * 101}
        response, page = send(client, page, wrong)
        assert response.status_code == 422
        assert set(inline_errors(page)) == {"subject", "count", "day", "contact", "phone", "body"}
        assert accessibility_problems(page, language) == []
        response, page = send(client, page, TEXT)
        response, page = send(client, page, {"sports": ["run", "swim", "other"]})
        assert response.status_code == 422
        assert accessibility_problems(page, language) == []
        response, page = send(client, page, CHOICES)
        assert accessibility_problems(page, language) == []
        response, page = send(client, page, {"person.family": "山田", "my_number": "1"})
        assert response.status_code == 422
        assert accessibility_problems(page, language) == []


async def test_files_are_checked_kept_and_removed(
    client: TestClient, session: AsyncSession
) -> None:
    await publish(session, EVERY_CONTROL)
    page = start(client, EVERY, "en")
    _response, page = send(client, page, TEXT)
    _response, page = send(client, page, CHOICES)
    program = [("papers.upload", ("invoice.pdf", EXE, "application/pdf"))]
    _response, page = send(client, page, files=program)
    assert inline_errors(page)["papers"].startswith("The file invoice.pdf is not a type of file")
    two = [("papers.upload", ("a.pdf", PDF, "application/pdf")),
           ("papers.upload", ("b.png", PNG, "image/png"))]  # fmt: skip
    _response, page = send(client, page, files=two)
    names = [e.text for e in page.find_all(class_="file-name")]
    assert names == ["a.pdf", "b.png"]
    assert not page.find_all("input", type="file"), "no room for a third file"
    _response, page = send(client, page, button="remove-file:papers:0")
    names = [e.text for e in page.find_all(class_="file-name")]
    assert names == ["b.png"]
    assert page.find_all("input", type="file")


async def test_a_local_government_name_that_matches_several_asks_for_the_code(
    client: TestClient, session: AsyncSession
) -> None:
    await publish(session, EVERY_CONTROL)
    page = start(client, EVERY, "en")
    _response, page = send(client, page, TEXT)
    _response, page = send(client, page, CHOICES)
    _response, page = send(client, page, {**IDENTITY, "town_hall": "府中市"})
    message = inline_errors(page)["town_hall"]
    assert message.startswith("Several local governments match 府中市: 府中市 (132063)")
    _response, page = send(client, page, {**IDENTITY, "town_hall": "どこにもない村"})
    assert inline_errors(page)["town_hall"].startswith(
        "No local government is called どこにもない村"
    )


async def test_a_draft_keeps_answering_the_version_it_started_with(
    client: TestClient, session: AsyncSession
) -> None:
    await publish(session, EVERY_CONTROL)
    page = start(client, EVERY, "en")
    response, page = send(client, page, TEXT)
    changed = EVERY_CONTROL.replace(
        "id: subject, type: short_text", "id: headline, type: short_text"
    )
    await publish(session, changed)
    draft_url = form_of(page).action.split("/pages/")[0]
    response = client.get(draft_url + "/pages/text")
    assert field_value(Page(response.text), "subject") == "テスト"
    response, page = send(client, page, CHOICES)
    pdf = [("papers.upload", ("申請書.pdf", PDF, "application/pdf"))]
    response, check = send(client, page, IDENTITY, files=pdf)
    assert str(response.url).endswith("/check"), error_summary(check)
    send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    submission = (await session.scalars(select(Submission))).one()
    assert submission.version == 1 and submission.answers["subject"] == "テスト"
    # a new start answers the new version
    assert start(client, EVERY, "en").find_all("input", id="headline")


async def test_a_closed_procedure_refuses_to_start_with_a_clear_page(
    client: TestClient, session: AsyncSession
) -> None:
    closed = EVERY_CONTROL.replace("slug: every-control", "slug: closed-one").replace(
        "pages:", "opens: 2020-01-01\ncloses: 2020-03-31\npages:", 1
    )
    await publish(session, closed)
    for language in ("ja", "en"):
        _response, start_page = get_page(client, "/bodies/soumu/procedures/closed-one", language)
        response, page = send(client, start_page, action_ends="/drafts")
        assert response.status_code == 409
        assert accessibility_problems(page, language) == []
    assert "This procedure closed on 2020-03-31." in page.main.text


@pytest.mark.usefixtures("signed_in_by_card")
def test_an_exit_explains_why_the_applicant_cannot_go_on(client: TestClient) -> None:
    for language in ("ja", "en"):
        page = start(client, "/bodies/meti/procedures/small-business-subsidy", language)
        response, page = send(
            client, page, {"corporate_number": "5835678256246", "employees": "21"}
        )
        assert "/exits/too_large" in str(response.url)
        assert accessibility_problems(page, language) == []
    assert "more than 20 regular employees" in page.main.text
    back = page.find("a", class_="back-link").attrs["href"]
    assert back.endswith("/pages/business")


def test_start_check_and_receipt_pages_are_accessible_in_both_languages(
    client: TestClient,
) -> None:
    for language in ("ja", "en"):
        _response, start_page = get_page(client, CONSULTATION, language)
        assert accessibility_problems(start_page, language) == []
        assert start_page.find("form", class_="start-form")
        first = start(client, CONSULTATION, language)
        assert accessibility_problems(first, language) == []
        check = opinions(client, about_you(client, first))
        assert accessibility_problems(check, language) == []
        _response, receipt = send(
            client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
        )
        assert accessibility_problems(receipt, language) == []
