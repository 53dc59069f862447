"""Server-side sessions: a random token in the cookie, rotation at sign-in, timeouts and
sign-out that end the session on the server, and the shared terminal."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.sessions import SESSION_COOKIE
from madoguchi.core.settings import Settings
from madoguchi.identity import sessions
from madoguchi.identity.models import WebSession
from madoguchi.web.app import create_app
from tests.submissions.journey_support import send
from tests.submissions.test_journey import _through_to_check
from tests.support.html import get_page
from tests.support.people import make_person, signed_in


def token_of(client: TestClient) -> str | None:
    return client.cookies.get(SESSION_COOKIE)


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_signed_in(client: TestClient) -> bool:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


async def change_row(database_url: str, token: str, **values: Any) -> None:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as db:
            await db.execute(
                update(WebSession).where(WebSession.token_hash == hashed(token)).values(**values)
            )
    finally:
        await engine.dispose()


async def rows(database_url: str) -> list[WebSession]:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as db:
            return list((await db.scalars(select(WebSession))).all())
    finally:
        await engine.dispose()


def test_the_cookie_holds_only_a_random_token(client: TestClient) -> None:
    response = client.get("/sign-in")  # the form's token starts a session
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on a development machine
    assert len(token_of(client) or "") >= 43  # 256 random bits


async def test_the_database_keeps_only_the_hash_of_the_token(
    client: TestClient, database_url: str
) -> None:
    client.get("/sign-in")
    token = token_of(client)
    assert token is not None
    [row] = await rows(database_url)
    assert row.token_hash == hashed(token) and token not in str(row.data)


def test_over_https_the_cookie_is_secure(settings: Settings) -> None:
    secure = settings.model_copy(update={"public_url": "https://madoguchi.example.jp"})
    with TestClient(create_app(secure)) as client:
        assert "Secure" in client.get("/sign-in").headers["set-cookie"]


def test_a_page_needing_nothing_starts_no_session(client: TestClient) -> None:
    client.get("/bodies")
    assert token_of(client) is None


def test_signing_in_rotates_the_token_and_the_form_token(
    client: TestClient, database_url: str
) -> None:
    """Session fixation: a token planted before sign-in is worth nothing after it."""
    _, page = get_page(client, "/sign-in")
    planted, old_form_token = token_of(client), page.find("input", name="csrf_token").attrs["value"]
    person = make_person(database_url)
    assert planted is not None
    # sign in the real way that needs no mail: rotate through the service, as every method does
    app_sign_in(client, database_url, person)
    assert token_of(client) not in (None, planted)
    assert is_signed_in(client)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, planted)
    assert not is_signed_in(client)
    refused = client.post("/sign-out", data={"csrf_token": old_form_token})
    assert refused.status_code == 400


def app_sign_in(client: TestClient, database_url: str, person: uuid.UUID) -> None:
    """Sign in through ``sessions.sign_in`` from a route added for the test, as card, passkey
    and email sign-ins call it."""
    app: FastAPI = client.app  # type: ignore[assignment]
    if not any(getattr(r, "path", "") == "/test-sign-in" for r in app.routes):
        app.add_api_route("/test-sign-in", _test_sign_in, methods=["POST"])
    assert client.post("/test-sign-in", params={"person": str(person)}).status_code == 200


async def _test_sign_in(request: Request, person: str) -> dict[str, str]:
    from madoguchi.identity.models import Assurance, Person, SignInMethod

    async with unit_of_work(request.app.state.session_factory) as db:
        found = await db.get_one(Person, uuid.UUID(person))
        await sessions.sign_in(request, db, found, SignInMethod.CARD, Assurance.HIGH)
    return {"signed_in": person}


def test_signing_out_ends_the_session_on_the_server(client: TestClient, database_url: str) -> None:
    csrf = signed_in(client, database_url, make_person(database_url))
    token = token_of(client)
    assert token is not None and is_signed_in(client)
    response = client.post("/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 200 and "Max-Age=0" in response.headers["set-cookie"]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token)  # a copy of the cookie kept from before
    assert not is_signed_in(client)


async def test_after_thirty_idle_minutes_the_session_has_ended(
    client: TestClient, database_url: str
) -> None:
    signed_in(client, database_url, make_person(database_url))
    token = token_of(client)
    assert token is not None
    idle = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    await change_row(database_url, token, last_seen_at=idle)
    assert not is_signed_in(client)
    assert all(row.token_hash != hashed(token) for row in await rows(database_url))


async def test_after_twelve_hours_the_session_has_ended_however_busy(
    client: TestClient, database_url: str
) -> None:
    signed_in(client, database_url, make_person(database_url))
    token = token_of(client)
    assert token is not None
    await change_row(database_url, token, expires_at=dt.datetime.now(dt.UTC))
    assert not is_signed_in(client)


async def test_a_browser_that_signed_in_nobody_keeps_its_drafts_through_a_pause(
    client: TestClient, database_url: str
) -> None:
    check = _through_to_check(client)
    [submit] = [
        f.attrs["action"] for f in check.find_all("form") if f.attrs["action"].endswith("/submit")
    ]
    check_url = submit.removesuffix("/submit") + "/check"
    token = token_of(client)
    assert token is not None
    hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    await change_row(database_url, token, last_seen_at=hours_ago)
    assert client.get(check_url).status_code == 200


def test_a_token_that_leads_nowhere_is_cleared(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "made-up")
    response = client.get("/")
    assert "Max-Age=0" in response.headers.get("set-cookie", "")


async def test_disabling_an_account_ends_its_sessions_everywhere(
    client: TestClient, database_url: str, session: AsyncSession
) -> None:
    person = make_person(database_url)
    signed_in(client, database_url, person)
    assert is_signed_in(client)
    assert await sessions.end_sessions_of(session, person) == 1
    await session.commit()
    assert not is_signed_in(client)


def test_a_failed_response_saves_nothing(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]

    async def fails(request: Request) -> None:
        request.session["written"] = "by a request that failed"
        raise RuntimeError("boom")

    app.add_api_route("/test-fails", fails)
    client.get("/sign-in")
    assert client.get("/test-fails").status_code == 500

    async def reads(request: Request) -> dict[str, Any]:
        return {"written": request.session.get("written")}

    app.add_api_route("/test-reads", reads)
    assert client.get("/test-reads").json() == {"written": None}


async def test_expired_sessions_are_purged(
    client: TestClient, database_url: str, session: AsyncSession, settings: Settings
) -> None:
    signed_in(client, database_url, make_person(database_url))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    assert await sessions.purge_expired(session, settings, later) == 1


# --- The shared terminal -----------------------------------------------------------------


def shared_terminal(client: TestClient) -> None:
    _, page = get_page(client, "/shared-terminal", "en")
    _, page = send(client, page, action_ends="/shared-terminal")
    assert "This browser is a shared terminal." in page.main.text


def test_a_shared_terminal_signs_out_after_a_completed_procedure(
    client: TestClient, database_url: str
) -> None:
    person = make_person(database_url)
    signed_in(client, database_url, person, shared_terminal=True)
    check = _through_to_check(client)
    response, receipt = send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "You have been signed out" in receipt.main.text or "サインアウト" in receipt.main.text
    assert not is_signed_in(client)
    assert client.get(str(response.url)).status_code == 404  # shown once, to that person only
    _, page = get_page(client, "/shared-terminal", "en")
    assert "This browser is a shared terminal." in page.main.text


def test_signing_out_of_a_shared_terminal_leaves_it_shared(
    client: TestClient, database_url: str
) -> None:
    csrf = signed_in(client, database_url, make_person(database_url), shared_terminal=True)
    client.post("/sign-out", data={"csrf_token": csrf})
    _, page = get_page(client, "/shared-terminal", "en")
    assert "This browser is a shared terminal." in page.main.text


def test_any_browser_can_be_made_a_shared_terminal(client: TestClient) -> None:
    shared_terminal(client)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_account_page_shows_the_card_attributes(
    client: TestClient, database_url: str, language: str
) -> None:
    person = make_person(
        database_url,
        address="北海道札幌市中央区北1条西2丁目",
        birthdate=dt.date(1980, 4, 1),
        attributes_verified_at=dt.datetime.now(dt.UTC),
    )
    signed_in(client, database_url, person)
    response, page = get_page(client, "/account", language)
    assert response.status_code == 200
    assert "北海道札幌市中央区北1条西2丁目" in page.main.text
