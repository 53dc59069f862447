"""/me: what this browser made, and what was made with the email address it proved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import JAPAN, as_utc
from madoguchi.core.settings import Settings
from madoguchi.core.wareki import format_date
from madoguchi.procedures import service as procedures
from madoguchi.procedures.validation import Accepted
from madoguchi.submissions import service
from madoguchi.submissions.drafts import Draft, create_draft
from madoguchi.submissions.models import Channel, Submission
from tests.support.html import Page, accessibility_problems, get_page
from tests.support.mail import (  # noqa: F401  mailbox_fixture is the mailbox fixture
    Mailbox,
    another_browser,
    link_in,
    mailbox_fixture,
    text_of,
    with_smtp,
)

ALICE = "alice@example.jp"
BOB = "bob@example.jp"
LANGUAGES = ["ja", "en"]
CONSULTATION = ("soumu", "metaverse-consultation")
MOVING = ("011002", "change-of-address")  # Sapporo's adoption of the national template


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return with_smtp(settings, mailbox)


async def submitted(
    session: AsyncSession, email: str | None, owner: tuple[str, str] = CONSULTATION
) -> Submission:
    """A submission made elsewhere (another device, or the API) with ``email``."""
    procedure = await procedures.get_procedure(session, *owner)
    current = await procedures.current(session, procedure)
    intake = service.Intake(Channel.WEB, "ja", "applicant", email=email)
    made = await service.submit(session, procedure, current.version, Accepted({}, {}), intake)
    await session.commit()
    return made.submission


async def drafted(
    session: AsyncSession,
    settings: Settings,
    email: str | None,
    owner: tuple[str, str] = CONSULTATION,
    now: dt.datetime | None = None,
) -> Draft:
    procedure = await procedures.get_procedure(session, *owner)
    current = await procedures.current(session, procedure)
    moment = now or dt.datetime.now(dt.UTC)
    draft = await create_draft(session, procedure, current, settings, moment)
    draft.email = email
    await session.commit()
    return draft


def form_token(client: TestClient) -> str:
    return Page(client.get("/sign-in").text).find("input", name="csrf_token").attrs["value"]


def sign_in(client: TestClient, mailbox: Mailbox, email: str) -> None:
    """As a person does: ask for a link, open it from the email, confirm."""
    asked = client.post(
        "/sign-in", data={"email": email, "next": "/me", "csrf_token": form_token(client)}
    )
    assert asked.status_code == 200
    link = link_in(text_of(mailbox.messages[-1]))
    token = Page(client.get(link).text).find("input", name="csrf_token").attrs["value"]
    assert client.post(link, data={"csrf_token": token}, follow_redirects=False).status_code == 303


def items(page: Page, heading: str) -> list[str]:
    section = next(s for s in page.find_all("section") if s.attrs["aria-labelledby"] == heading)
    return [a.attrs["href"] for a in section.find_all("a")]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_signed_in_person_sees_what_they_made_anywhere_and_nothing_else(
    client: TestClient,
    mailbox: Mailbox,
    session: AsyncSession,
    settings: Settings,
    language: str,
) -> None:
    mine = [await submitted(session, ALICE), await submitted(session, ALICE, MOVING)]
    theirs = await submitted(session, BOB)
    anonymous = await submitted(session, None)
    my_draft = await drafted(session, settings, ALICE)
    their_draft = await drafted(session, settings, BOB)

    sign_in(client, mailbox, ALICE)
    response, page = get_page(client, "/me", language)
    assert response.status_code == 200
    assert accessibility_problems(page, language) == []

    receipts = items(page, "sent-heading")
    assert sorted(receipts) == sorted(
        [
            f"/bodies/soumu/submissions/{mine[0].id}",
            f"/bodies/011002/submissions/{mine[1].id}",
        ]
    )
    assert items(page, "drafts-heading") == [
        f"/bodies/soumu/procedures/metaverse-consultation/drafts/{my_draft.id}"
    ]
    text = page.main.text
    assert all(s.reference in text for s in mine)
    assert theirs.reference not in text and anonymous.reference not in text
    assert str(their_draft.id) not in response.text
    assert ALICE in text


async def test_each_item_shows_its_procedure_body_date_and_status(
    client: TestClient, mailbox: Mailbox, session: AsyncSession
) -> None:
    moving = await submitted(session, ALICE, MOVING)
    sign_in(client, mailbox, ALICE)

    _, page = get_page(client, "/me", "en")
    receipt = f"/bodies/011002/submissions/{moving.id}"
    row = next(r for r in page.find_all("tr") if r.find_all("a", href=receipt))
    assert row.find("a").text == moving.reference
    cells = [cell.text for cell in row.find_all("td")]
    submitted_on = as_utc(moving.submitted_at).astimezone(JAPAN).date()
    assert cells == [
        "Notice of moving within the same municipality",  # the template's title, as answered
        "札幌市",  # the body that received it (it has no English name in the reference data)
        format_date(submitted_on, "en"),
        "Received",
    ]
    assert row.find_all("td")[1].find("span").lang == "ja"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_browser_not_signed_in_sees_what_it_made(client: TestClient, language: str) -> None:
    started = client.post(
        "/bodies/soumu/procedures/metaverse-consultation/drafts",
        data={"csrf_token": form_token(client)},
        follow_redirects=False,
    )
    draft = started.headers["location"].rsplit("/pages/", 1)[0]

    response, page = get_page(client, "/me", language)
    assert response.status_code == 200
    assert accessibility_problems(page, language) == []
    assert items(page, "drafts-heading") == [draft]
    assert page.find("a", href="/sign-in?next=/me")

    with another_browser(client) as other:
        _, elsewhere = get_page(other, "/me", language)
    assert items(elsewhere, "drafts-heading") == []
    assert accessibility_problems(elsewhere, language) == []


async def test_expired_and_sent_drafts_are_not_listed_to_continue(
    client: TestClient, mailbox: Mailbox, session: AsyncSession, settings: Settings
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.draft_days + 1)
    await drafted(session, settings, ALICE, now=long_ago)
    sent = await drafted(session, settings, ALICE)
    sent.submission_id = (await submitted(session, ALICE)).id
    await session.commit()

    sign_in(client, mailbox, ALICE)
    _, page = get_page(client, "/me", "en")
    assert items(page, "drafts-heading") == []
    assert len(items(page, "sent-heading")) == 1


async def test_a_draft_sealed_with_a_key_no_longer_in_use_is_left_out(
    client: TestClient, mailbox: Mailbox, session: AsyncSession, settings: Settings
) -> None:
    rotated = settings.model_copy(update={"secret_key": "an-earlier-key-" + "x" * 40})
    await drafted(session, rotated, ALICE)  # it cannot be opened any more, so not continued
    kept = await drafted(session, settings, ALICE)

    sign_in(client, mailbox, ALICE)
    _, page = get_page(client, "/me", "en")
    assert items(page, "drafts-heading") == [
        f"/bodies/soumu/procedures/metaverse-consultation/drafts/{kept.id}"
    ]


@contextmanager
def counted_queries(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_the_number_of_queries_does_not_grow_with_the_items(
    app: FastAPI,
    client: TestClient,
    mailbox: Mailbox,
    session: AsyncSession,
    settings: Settings,
) -> None:
    sign_in(client, mailbox, ALICE)
    await submitted(session, ALICE)
    await drafted(session, settings, ALICE)
    with counted_queries(app) as few:
        assert client.get("/me").status_code == 200

    for owner in (CONSULTATION, MOVING, MOVING, CONSULTATION):
        await submitted(session, ALICE, owner)
        await drafted(session, settings, ALICE, owner)
    with counted_queries(app) as many:
        page = Page(client.get("/me").text)
    assert len(items(page, "sent-heading")) == 5
    assert len(items(page, "drafts-heading")) == 5
    assert len(many) == len(few)
