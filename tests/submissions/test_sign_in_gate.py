"""A procedure that asks for proof of identity asks the visitor to sign in (or step up), keeps
nothing it should not, and lets them through once the session is strong enough."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.identity.models import Assurance, SignInMethod
from madoguchi.submissions.models import Draft
from tests.submissions.journey_support import send
from tests.submissions.test_journey import CONSULTATION, start
from tests.support.html import Page, accessibility_problems, get_page
from tests.support.people import make_person, signed_in

MOVING = "/bodies/011002/procedures/change-of-address"  # assurance: high


def press_start(client: TestClient, language: str = "ja") -> tuple[int, Page, str]:
    _, page = get_page(client, MOVING, language)
    response, shown = send(client, page, action_ends="/drafts")
    return response.status_code, shown, str(response.url)


async def drafts_made(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Draft)) or 0)


def sign_in_link(page: Page) -> dict[str, list[str]]:
    link = next(a for a in page.main.find_all("a") if a.attrs["href"].startswith("/sign-in?"))
    return parse_qs(urlsplit(link.attrs["href"]).query)


def test_the_start_page_says_the_card_is_needed(client: TestClient) -> None:
    _, page = get_page(client, MOVING, "en")
    assert "With your My Number card" in page.main.text


async def test_nobody_signed_in_is_asked_to_sign_in_and_no_draft_is_made(
    client: TestClient, session: AsyncSession
) -> None:
    status, page, url = press_start(client, "en")
    assert status == 200 and "/drafts" in url
    assert page.h1 == "Sign in to continue"
    assert sign_in_link(page) == {"next": [MOVING], "level": ["high"]}
    assert await drafts_made(session) == 0


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_page_asking_to_sign_in_is_accessible(client: TestClient, language: str) -> None:
    _, page, _ = press_start(client, language)
    assert accessibility_problems(page, language) == []


def test_an_email_sign_in_is_asked_to_step_up_to_the_card(
    client: TestClient, database_url: str
) -> None:
    person = make_person(database_url)
    signed_in(client, database_url, person, SignInMethod.EMAIL, Assurance.LOW)
    _, page, _ = press_start(client, "en")
    assert "not with your My Number card" in page.main.text


def test_the_sign_in_page_for_the_card_offers_no_email_link(client: TestClient) -> None:
    _, page = get_page(client, f"/sign-in?next={MOVING}&level=high", "en")
    assert page.find_all("input", attrs={"name": "email"}) == []
    assert "needs your My Number card" in page.main.text


async def test_a_card_sign_in_goes_through_and_the_draft_is_the_persons(
    client: TestClient, database_url: str, session: AsyncSession
) -> None:
    person = make_person(database_url)
    signed_in(client, database_url, person)
    status, _, url = press_start(client)
    assert status == 200 and "/pages/" in url
    draft = await session.scalar(select(Draft))
    assert draft is not None and draft.person_id == person


def test_a_persons_draft_opens_only_for_that_person(client: TestClient, database_url: str) -> None:
    owner, other = make_person(database_url), make_person(database_url, "佐藤 次郎")
    signed_in(client, database_url, owner)
    _, _, url = press_start(client)
    assert client.get(url).status_code == 200
    signed_in(client, database_url, other)
    assert client.get(url).status_code == 404
    client.cookies.clear()  # the same browser, nobody signed in: its memory is not enough
    assert client.get(url).status_code == 404


def test_a_procedure_asking_nothing_needs_no_sign_in(client: TestClient) -> None:
    first = start(client, CONSULTATION)
    assert first.find("h1") is not None


def test_a_session_that_became_weaker_is_asked_again_mid_journey(
    client: TestClient, database_url: str
) -> None:
    """The draft stays; the page asks for the card again and leads back to the draft."""
    person = make_person(database_url)
    signed_in(client, database_url, person)
    _, _, url = press_start(client, "en")
    signed_in(client, database_url, person, SignInMethod.EMAIL, Assurance.LOW)
    response, page = get_page(client, url, "en")
    assert response.status_code == 200 and page.h1 == "Sign in to continue"
    draft = urlsplit(url).path.split("/pages/")[0]
    assert sign_in_link(page)["next"] == [draft]
    assert uuid.UUID(draft.rsplit("/", 1)[1])
