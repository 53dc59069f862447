"""The applicant's journey without JavaScript: the metaverse consultation from its start page to the
receipt, errors that keep what was typed, drafts that survive a restart, one submission however
often Submit is pressed, and drafts that only their own browser can open."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.i18n import translations
from madoguchi.core.settings import Settings
from madoguchi.submissions import drafts
from madoguchi.submissions.models import Draft, Submission, SubmissionEvent
from madoguchi.web.app import create_app
from tests.submissions.journey_support import (
    answers_shown,
    error_summary,
    field_value,
    inline_errors,
    send,
)
from tests.support.html import Page, get_page
from tests.support.samples import PDF

CONSULTATION = "/bodies/soumu/procedures/metaverse-consultation"
OPINION = "子どもが安心して使える仕組みを整えてください。\n保護者向けの説明も必要です。"


def start(client: TestClient, start_url: str = CONSULTATION, language: str = "ja") -> Page:
    """Open the start page and press "Start now": the first question page."""
    _response, page = get_page(client, start_url, language)
    response, first = send(client, page, action_ends="/drafts")
    assert response.status_code == 200, response.text
    assert "/pages/" in str(response.url)
    return first


def about_you(client: TestClient, page: Page) -> Page:
    """Answer "no" to anonymity; the name question appears; give it."""
    response, page = send(client, page, {"anonymous": "no"})
    assert response.status_code == 200
    assert page.find_all("input", id="name"), "the name question is shown once it applies"
    response, page = send(client, page, {"name": "山田 花子", "email": "Hanako@Example.JP"})
    assert response.status_code == 200 and str(response.url).endswith("/pages/opinions")
    return page


def opinions(client: TestClient, page: Page) -> Page:
    response, page = send(client, page, {"topics": ["safety", "public"]})
    assert response.status_code == 200
    typed = {"opinion_safety": OPINION, "opinion_public": "窓口の予約に使えると便利です。"}
    attachment = [("attachments.upload", ("意見書.pdf", PDF, "application/pdf"))]
    response, page = send(client, page, typed, files=attachment)
    assert response.status_code == 200 and str(response.url).endswith("/check"), page.h1
    return page


def test_the_whole_consultation_with_an_attachment_to_the_receipt(
    client: TestClient, session: AsyncSession
) -> None:
    check = opinions(client, about_you(client, start(client)))
    answers = answers_shown(check)
    assert answers["氏名または団体名"] == "山田 花子"
    assert answers["メールアドレス"] == "Hanako@example.jp"
    assert answers["ご意見のある論点"] == "安全・安心な利用環境、行政サービスでの活用"
    assert answers["添付資料"] == "意見書.pdf (1 KB)"
    links = [a.attrs["href"] for a in check.find_all("a") if "?from=check" in a.attrs["href"]]
    assert [link.rpartition("/pages/")[2] for link in links] == [
        "about_you?from=check#anonymous",
        "about_you?from=check#name",
        "about_you?from=check#email",
        "opinions?from=check#topics",
        "opinions?from=check#opinion_safety",
        "opinions?from=check#opinion_public",
        "opinions?from=check#attachments",
    ]

    response, again = send(client, check, action_ends="/submit")
    assert response.status_code == 422
    assert error_summary(again) == [
        translations("ja").gettext("Confirm the declaration to submit.")
    ]

    response, receipt = send(client, again, {"declaration_confirmed": "yes"}, action_ends="/submit")
    assert response.status_code == 200, receipt.h1
    reference = receipt.find(class_="reference-number").text
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", reference)
    assert "ご意見をお受けしました。ありがとうございました。" in receipt.main.text
    assert receipt.find("a", href=str(response.url.path) + "/receipt.pdf")
    assert "意見書.pdf" in receipt.main.text


def test_problems_are_summarised_and_shown_inline_with_what_was_typed_kept(
    client: TestClient,
) -> None:
    page = start(client, language="en")
    response, page = send(client, page, {"anonymous": "no"})
    typed = {"name": "Hanako Yamada", "email": "not-an-email"}
    response, page = send(client, page, typed)
    assert response.status_code == 422
    assert page.find("title").text.startswith("Error:")
    assert error_summary(page) == [
        "Email address: not-an-email is not an email address: enter it like name@example.jp."
    ]
    assert page.find("div", class_="error-summary").find("a").attrs["href"] == "#email"
    assert inline_errors(page) == {
        "email": "not-an-email is not an email address: enter it like name@example.jp."
    }
    email = page.by_id("email")
    assert email.attrs["aria-invalid"] == "true"
    assert "email-error" in email.attrs["aria-describedby"].split()
    assert {name: field_value(page, name) for name in typed} == typed


def test_a_required_question_left_empty_and_an_answer_kept_when_the_page_fails(
    client: TestClient,
) -> None:
    page = start(client, language="en")
    response, page = send(client, page, {})
    assert response.status_code == 422
    assert error_summary(page) == [
        "Do you want to give your opinion without your name?: Choose yes or no."
    ]
    assert page.find("div", class_="error-summary").find("a").attrs["href"] == "#anonymous"


def _draft_url(page: Page) -> str:
    action = page.find("form", class_="question-page").attrs["action"]
    return action.split("/pages/")[0]


def test_a_restart_in_the_middle_loses_nothing(client: TestClient, settings: Settings) -> None:
    page = about_you(client, start(client))
    draft_url = _draft_url(page)
    response, page = send(client, page, {"topics": ["safety"]})
    response, page = send(client, page, {"opinion_safety": OPINION, "topics": ["safety", "nope"]})
    assert response.status_code == 422

    with TestClient(create_app(settings), cookies=dict(client.cookies.items())) as restarted:
        response = restarted.get(draft_url)  # continue where I stopped
        assert str(response.url).endswith("/pages/opinions")
        page = Page(response.text)
        assert field_value(page, "opinion_safety") == OPINION
        assert page.by_id("topics").attrs.get("checked") is not None
        response, page = send(restarted, page, {"topics": ["safety"]})
        assert str(response.url).endswith("/check")
        response = restarted.get(draft_url + "/pages/about_you")
        assert field_value(Page(response.text), "name") == "山田 花子"


async def test_hidden_questions_are_never_stored(client: TestClient, session: AsyncSession) -> None:
    page = about_you(client, start(client))
    response, page = send(client, page, {"topics": ["safety"]})
    typed = {"opinion_safety": OPINION, "opinion_rights": "not asked: never kept"}
    response, check = send(client, page, typed)
    assert str(response.url).endswith("/check")
    back = client.get(str(response.url).replace("/check", "/pages/about_you?from=check"))
    response, check = send(client, Page(back.text), {"anonymous": "yes"})
    assert str(response.url).endswith("/check")
    assert "山田" not in check.main.text
    response, _receipt = send(
        client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
    )
    submission = (await session.scalars(select(Submission))).one()
    assert set(submission.answers) == {"anonymous", "email", "topics", "opinion_safety"}
    assert submission.answers["anonymous"] is True


def _through_to_check(client: TestClient) -> Page:
    page = about_you(client, start(client))
    response, page = send(client, page, {"topics": ["economy"]})
    response, check = send(client, page, {"opinion_economy": "取引の安全を。"})
    assert str(response.url).endswith("/check")
    return check


async def test_submitting_twice_makes_one_submission(
    client: TestClient, session: AsyncSession
) -> None:
    check = _through_to_check(client)
    first, receipt = send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    again, receipt_again = send(
        client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
    )
    assert first.url == again.url and first.status_code == again.status_code == 200
    reference = receipt.find(class_="reference-number").text
    assert receipt_again.find(class_="reference-number").text == reference
    assert await session.scalar(select(func.count()).select_from(Submission)) == 1
    draft = (await session.scalars(select(Draft))).one()
    assert draft.submission_id is not None and str(draft.submission_id) in str(first.url)
    # the back button to a page of the submitted draft leads to its receipt
    draft_url = check.find("form", class_="submit-form").attrs["action"].removesuffix("/submit")
    assert client.get(draft_url + "/pages/opinions").url == first.url


async def test_two_submits_at_once_make_one_submission(
    client: TestClient, settings: Settings, session: AsyncSession
) -> None:
    check = _through_to_check(client)
    form_action = check.find("form", class_="submit-form").attrs["action"]
    token = check.find("input", name="csrf_token").attrs["value"]
    body = {"csrf_token": token, "declaration_confirmed": "yes"}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=dict(client.cookies.items())
        ) as browser:
            answers = await asyncio.gather(
                browser.post(form_action, data=body), browser.post(form_action, data=body)
            )
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert await session.scalar(select(func.count()).select_from(Submission)) == 1
    assert await session.scalar(select(func.count()).select_from(SubmissionEvent)) == 1


@contextmanager
def another_browser(client: TestClient) -> Iterator[TestClient]:
    """The same app seen from a browser of its own: none of this browser's cookies. (A second
    TestClient would run the app in another event loop than its database pool.)"""
    mine = client.cookies
    client.cookies = {}
    try:
        yield client
    finally:
        client.cookies = mine


def test_another_browser_cannot_open_the_draft_or_the_receipt(client: TestClient) -> None:
    check = _through_to_check(client)
    draft_url = check.find("form", class_="submit-form").attrs["action"].removesuffix("/submit")
    with another_browser(client) as other:
        for url in (draft_url, draft_url + "/pages/about_you", draft_url + "/check"):
            response = other.get(url)
            assert response.status_code == 404, url
        _response, start_page = get_page(other, CONSULTATION, "en")
        assert "There is no draft at this address" in other.get(draft_url).text
        token = start_page.find("input", name="csrf_token").attrs["value"]
        stolen = other.post(draft_url + "/submit", data={"csrf_token": token})
        assert stolen.status_code == 404
    response, _receipt = send(
        client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
    )
    assert response.status_code == 200
    with another_browser(client) as other:
        assert other.get(str(response.url)).status_code == 404


def test_a_draft_is_found_only_under_its_own_body_and_procedure(client: TestClient) -> None:
    page = start(client)
    draft_id = _draft_url(page).rsplit("/", 1)[1]
    elsewhere = [
        f"/bodies/soumu/procedures/change-of-address/drafts/{draft_id}",
        f"/bodies/011002/procedures/change-of-address/drafts/{draft_id}",
        f"/bodies/meti/procedures/small-business-subsidy/drafts/{draft_id}",
        f"{CONSULTATION}/drafts/not-a-uuid",
        f"{CONSULTATION}/drafts/{draft_id}/pages/no_such_page",
    ]
    for url in elsewhere[:-1]:
        assert client.get(url).status_code == 404, url
    # a page that is not (yet) on the path leads to where the applicant stands
    assert str(client.get(elsewhere[-1]).url).endswith("/pages/about_you")
    assert str(client.get(f"{CONSULTATION}/drafts/{draft_id}/check").url).endswith("/about_you")


async def test_the_draft_is_sealed_in_the_database_and_expires(
    client: TestClient, session: AsyncSession
) -> None:
    page = start(client)
    _response, page = send(client, page, {"anonymous": "no"})
    _response, page = send(client, page, {"name": "秘密太郎", "email": "himitsu@example.jp"})
    rows = (await session.execute(text("SELECT * FROM drafts"))).all()
    assert len(rows) == 1
    assert not any("秘密" in str(cell) or "himitsu" in str(cell) for cell in rows[0])
    draft = (await session.scalars(select(Draft))).one()
    draft.expires_at = draft.updated_at  # as if the draft had been left for draft_days
    await session.commit()
    assert client.get(_draft_url(page)).status_code == 404


def test_a_change_from_the_check_page_asks_what_it_adds_then_returns(client: TestClient) -> None:
    check = _through_to_check(client)
    change = next(a for a in check.find_all("a") if a.attrs["href"].endswith("#topics"))
    page = Page(client.get(change.attrs["href"]).text)
    assert page.find("a", class_="back-link").attrs["href"].endswith("/check")
    response, page = send(client, page, {"topics": ["economy", "rights"]})
    assert response.status_code == 200 and page.find_all(class_="notice")
    assert page.find_all("textarea", id="opinion_rights")
    response, check = send(client, page, {"opinion_rights": "権利の保護を。"})
    assert str(response.url).endswith("/check")
    assert answers_shown(check)["「知的財産と権利保護」へのご意見"] == "権利の保護を。"


async def test_an_answer_missing_at_submit_sends_the_applicant_to_its_page(
    client: TestClient, session: AsyncSession, settings: Settings
) -> None:
    check = _through_to_check(client)
    draft = (await session.scalars(select(Draft))).one()
    content = drafts.open_content(draft, settings.resolved_secret_key())
    del content.answers["opinion_economy"]  # as if it had been lost on the way
    drafts.seal_content(draft, content, settings.resolved_secret_key(), draft.updated_at, 30)
    await session.commit()
    response, page = send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    assert str(response.url).endswith("/pages/opinions?from=check&missing=1")
    assert list(inline_errors(page)) == ["opinion_economy"]
    assert await session.scalar(select(func.count()).select_from(Submission)) == 0
