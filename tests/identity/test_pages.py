"""Signing in by email: the link arrives by real SMTP and signs in the browser that confirms it."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.attempts import Limit
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.identity import email_links
from madoguchi.identity.models import AuditEntry, Person, SignInLink
from madoguchi.notifications import mail
from madoguchi.web.app import create_app
from tests.support.html import Page, accessibility_problems, get_page
from tests.support.mail import (  # noqa: F401  mailbox_fixture is the mailbox fixture
    Mailbox,
    another_browser,
    link_in,
    mailbox_fixture,
    text_of,
    with_smtp,
)
from tests.support.server import free_port

EMAIL = "hanako@example.jp"
LANGUAGES = ["ja", "en"]


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return with_smtp(settings, mailbox)


def form_token(page: Page) -> str:
    return page.find("input", name="csrf_token").attrs["value"]


def ask_for_link(
    client: TestClient, email: str = EMAIL, next_path: str = "/me", language: str = "ja"
) -> Page:
    _, page = get_page(client, f"/sign-in?next={next_path}", language)
    response = client.post(
        "/sign-in",
        data={
            "email": email,
            "next": page.find("input", name="next").attrs["value"],
            "csrf_token": form_token(page),
        },
    )
    assert response.status_code == 200, response.text
    return Page(response.text)


def confirm(client: TestClient, link: str) -> tuple[int, str]:
    """Open the link and press its button; the status and where it led."""
    response, page = get_page(client, link)
    assert response.status_code == 200, response.text
    pressed = client.post(link, data={"csrf_token": form_token(page)}, follow_redirects=False)
    return pressed.status_code, pressed.headers.get("location", "")


def signed_in_as(client: TestClient) -> str | None:
    _, page = get_page(client, "/", "en")
    shown = page.find_all(class_="account-email")
    return shown[0].text if shown else None


def test_the_application_sends_email_through_notifications(settings: Settings) -> None:
    """Identity sits below notifications, so web.app hands it the sender."""
    assert create_app(settings).state.send_email is mail.send_template


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_page_is_accessible(client: TestClient, language: str) -> None:
    response, page = get_page(client, "/sign-in", language)
    assert response.status_code == 200
    assert accessibility_problems(page, language) == []
    assert page.find("input", name="email").attrs["autocomplete"] == "email"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_link_sent_by_email_signs_in_another_browser(
    client: TestClient, mailbox: Mailbox, language: str
) -> None:
    sent = ask_for_link(client, next_path="/me", language=language)
    assert accessibility_problems(sent, language) == []
    assert EMAIL in sent.main.text

    message = mailbox.only_message_to(EMAIL)
    link = link_in(text_of(message))
    with another_browser(client) as phone:
        response, page = get_page(phone, link, language)
        assert response.status_code == 200
        assert accessibility_problems(page, language) == []
        assert EMAIL in page.main.text
        assert signed_in_as(phone) is None  # opening the link alone signs nobody in

        assert confirm(phone, link) == (303, "/me")
        assert signed_in_as(phone) == f"Signed in as {EMAIL}"
    assert signed_in_as(client) is None  # the browser that asked is not the one that proved it


def test_the_email_is_in_the_language_of_the_page(client: TestClient, mailbox: Mailbox) -> None:
    ask_for_link(client, "taro@example.jp", language="en")
    ask_for_link(client, "jiro@example.jp", language="ja")
    assert "sign in" in mailbox.only_message_to("taro@example.jp")["Subject"]
    assert "サインイン" in mailbox.only_message_to("jiro@example.jp")["Subject"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_used_link_fails_the_second_time(
    client: TestClient, mailbox: Mailbox, language: str
) -> None:
    ask_for_link(client)
    link = link_in(text_of(mailbox.only_message_to(EMAIL)))
    assert confirm(client, link)[0] == 303

    response, page = get_page(client, link, language)
    assert response.status_code == 422
    assert accessibility_problems(page, language) == []
    assert page.find("a", href="/sign-in")  # the way to a new link


async def test_an_expired_link_fails(
    client: TestClient, mailbox: Mailbox, session: AsyncSession
) -> None:
    ask_for_link(client)
    link = link_in(text_of(mailbox.only_message_to(EMAIL)))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await session.execute(update(SignInLink).values(expires_at=past))
    await session.commit()

    response, page = get_page(client, link, "en")
    assert response.status_code == 422
    assert "expired" in page.main.text
    csrf = client.get("/sign-in").text  # a form token for this browser
    token = Page(csrf).find("input", name="csrf_token").attrs["value"]
    pressed = client.post(link, data={"csrf_token": token}, follow_redirects=False)
    assert pressed.status_code == 422
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_a_link_cannot_lead_off_this_site(
    client: TestClient, mailbox: Mailbox, target: str
) -> None:
    ask_for_link(client, next_path=target)
    link = link_in(text_of(mailbox.only_message_to(EMAIL)))
    assert confirm(client, link) == (303, "/me")


def test_a_link_leads_back_to_the_page_it_was_asked_from(
    client: TestClient, mailbox: Mailbox
) -> None:
    ask_for_link(client, next_path="/bodies/soumu")
    link = link_in(text_of(mailbox.only_message_to(EMAIL)))
    assert confirm(client, link) == (303, "/bodies/soumu")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_address_comes_back_with_the_error_and_what_was_typed(
    client: TestClient, mailbox: Mailbox, language: str
) -> None:
    _, page = get_page(client, "/sign-in", language)
    response = client.post(
        "/sign-in", data={"email": "hanako@", "next": "/me", "csrf_token": form_token(page)}
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert accessibility_problems(page, language) == []
    assert page.find(class_="error-summary").find("a").attrs["href"] == "#email"
    assert page.find("input", name="email").attrs["value"] == "hanako@"
    assert mailbox.messages == []


def test_a_form_from_elsewhere_is_refused(client: TestClient, mailbox: Mailbox) -> None:
    response = client.post("/sign-in", data={"email": EMAIL, "next": "/me"})
    assert response.status_code == 400
    assert mailbox.messages == []


async def test_asking_again_and_again_is_stopped_before_the_mailbox_fills(
    client: TestClient, mailbox: Mailbox, session: AsyncSession
) -> None:
    for _ in range(5):
        ask_for_link(client)
    _, page = get_page(client, "/sign-in", "en")
    response = client.post(
        "/sign-in", data={"email": EMAIL, "next": "/me", "csrf_token": form_token(page)}
    )
    assert response.status_code == 429
    assert accessibility_problems(Page(response.text), "en") == []
    assert len(mailbox.messages) == 5
    assert await session.scalar(select(func.count()).select_from(SignInLink)) == 5


def test_one_client_asking_for_links_to_many_addresses_is_stopped(
    client: TestClient, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        email_links, "LINKS_FROM_ONE_CLIENT", Limit("sign-in-links-from", 3, dt.timedelta(hours=1))
    )
    for number in range(3):
        ask_for_link(client, email=f"person{number}@example.jp")
    _, page = get_page(client, "/sign-in", "en")
    response = client.post(
        "/sign-in",
        data={"email": "one-more@example.jp", "next": "/me", "csrf_token": form_token(page)},
    )
    assert response.status_code == 429
    assert "from your connection" in Page(response.text).main.text
    assert len(mailbox.messages) == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_signing_out(client: TestClient, mailbox: Mailbox, language: str) -> None:
    ask_for_link(client)
    confirm(client, link_in(text_of(mailbox.only_message_to(EMAIL))))
    _, page = get_page(client, "/", language)
    assert accessibility_problems(page, language) == []  # the header, signed in

    signed_out = client.post("/sign-out", data={"csrf_token": form_token(page)})
    assert signed_out.status_code == 200
    assert accessibility_problems(Page(signed_out.text), language) == []
    assert signed_in_as(client) is None


async def test_when_the_mail_server_is_down_the_page_says_so_and_keeps_no_link(
    settings: Settings, session: AsyncSession
) -> None:
    down = create_app(settings.model_copy(update={"smtp_port": free_port()}))
    with TestClient(down, raise_server_exceptions=False) as client:
        _, page = get_page(client, "/sign-in", "en")
        response = client.post(
            "/sign-in", data={"email": EMAIL, "next": "/me", "csrf_token": form_token(page)}
        )
    assert response.status_code == 503
    page = Page(response.text)
    assert accessibility_problems(page, "en") == []
    assert "We could not send the email. Try again in a few minutes." in page.main.text
    assert await session.scalar(select(func.count()).select_from(SignInLink)) == 0


def test_without_a_mail_server_the_link_is_in_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    development = create_app(settings.model_copy(update={"smtp_host": ""}))
    logging.getLogger().addHandler(caplog.handler)  # create_app set up logging afresh
    with TestClient(development) as client, caplog.at_level(logging.INFO, logger=mail.__name__):
        ask_for_link(client)
        link = link_in(caplog.text)
        assert confirm(client, link) == (303, "/me")
        assert signed_in_as(client) == f"Signed in as {EMAIL}"


async def test_a_sign_in_is_written_to_the_audit_log(
    client: TestClient, mailbox: Mailbox, database_url: str
) -> None:
    ask_for_link(client, next_path="/me")
    link = link_in(text_of(mailbox.only_message_to(EMAIL)))
    with another_browser(client) as phone:
        phone.get(link)
        assert confirm(phone, link) == (303, "/me")
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            entries = (await session.scalars(select(AuditEntry))).all()
            person = await session.scalar(select(Person).where(Person.email == EMAIL))
    finally:
        await engine.dispose()
    assert person is not None
    assert [(e.chain, e.actor, e.action, e.details) for e in entries] == [
        ("platform", f"person:{person.id}", "sign_in.email", {"assurance": "low"})
    ]
