"""Save and come back later: the link arrives by real SMTP and opens the same draft elsewhere."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import JAPAN, as_utc
from madoguchi.core.settings import Settings
from madoguchi.core.wareki import format_date
from madoguchi.identity.email_links import LINKS_PER_HOUR
from madoguchi.submissions.drafts import Draft
from madoguchi.tenants import service as tenants
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

CONSULTATION = "/bodies/soumu/procedures/metaverse-consultation"
EMAIL = "hanako@example.jp"
LANGUAGES = ["ja", "en"]


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return with_smtp(settings, mailbox)


def form_token(client: TestClient) -> str:
    """This browser's form token, from a page with a form."""
    page = Page(client.get("/sign-in").text)
    return page.find("input", name="csrf_token").attrs["value"]


def start_draft(client: TestClient, procedure: str = CONSULTATION) -> str:
    """Start answering as an applicant does; the draft's address."""
    started = client.post(
        f"{procedure}/drafts", data={"csrf_token": form_token(client)}, follow_redirects=False
    )
    assert started.status_code == 303, started.text
    return started.headers["location"].rsplit("/pages/", 1)[0]


def answer_first_page(client: TestClient, draft: str) -> None:
    sent = client.post(
        f"{draft}/pages/about_you",
        data={
            "anonymous": "yes",
            "shown": ["anonymous", "email"],
            "csrf_token": form_token(client),
        },
        follow_redirects=False,
    )
    assert sent.headers["location"] == f"{draft}/pages/opinions"


def save(client: TestClient, draft: str, email: str = EMAIL, language: str = "ja") -> Page:
    client.cookies.set("lang", language)
    response = client.post(f"{draft}/save", data={"email": email, "csrf_token": form_token(client)})
    assert response.status_code == 200, response.text
    return Page(response.text)


def follow(client: TestClient, link: str) -> str:
    """Open the emailed link and confirm; where it led."""
    page = Page(client.get(link).text)
    token = page.find("input", name="csrf_token").attrs["value"]
    confirmed = client.post(link, data={"csrf_token": token}, follow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    return confirmed.headers["location"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_saved_draft_continues_on_another_device(
    client: TestClient, mailbox: Mailbox, language: str
) -> None:
    draft = start_draft(client)
    answer_first_page(client, draft)

    response, page = get_page(client, f"{draft}/save", language)
    assert response.status_code == 200
    assert accessibility_problems(page, language) == []
    saved = save(client, draft, language=language)
    assert accessibility_problems(saved, language) == []
    assert EMAIL in saved.main.text

    message = mailbox.only_message_to(EMAIL)
    assert {"ja": "メタバース", "en": "metaverse"}[language] in message["Subject"]
    with another_browser(client) as phone:  # another device: nothing remembered
        assert phone.get(f"{draft}/save").status_code == 404
        assert follow(phone, link_in(text_of(message))) == draft
        continued = phone.get(draft, follow_redirects=False)
        assert continued.headers["location"] == f"{draft}/pages/opinions"  # as it was left
        assert phone.get(f"{draft}/pages/opinions").status_code == 200


async def test_the_pages_and_the_email_say_until_when_the_draft_is_kept(
    client: TestClient, mailbox: Mailbox, session: AsyncSession
) -> None:
    draft = start_draft(client)
    page = save(client, draft, language="en")

    stored = await stored_draft(session, draft)
    assert stored.email == EMAIL
    last_day = as_utc(stored.expires_at).astimezone(JAPAN).date()
    kept_until = format_date(last_day, "en")
    assert f"kept until {kept_until}" in page.main.text
    assert f"kept until {kept_until}" in text_of(mailbox.only_message_to(EMAIL))


def test_the_address_is_filled_in_for_someone_signed_in(
    client: TestClient, mailbox: Mailbox
) -> None:
    draft = start_draft(client)
    save(client, draft, "taro@example.jp")
    with another_browser(client) as other:
        assert follow(other, link_in(text_of(mailbox.only_message_to("taro@example.jp")))) == draft
        _, page = get_page(other, f"{draft}/save", "en")
    assert page.find("input", name="email").attrs["value"] == "taro@example.jp"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_address_is_shown_with_what_was_typed_and_nothing_is_sent(
    client: TestClient, mailbox: Mailbox, language: str
) -> None:
    draft = start_draft(client)
    client.cookies.set("lang", language)
    response = client.post(
        f"{draft}/save", data={"email": "hanako.example.jp", "csrf_token": form_token(client)}
    )
    assert response.status_code == 422
    page = Page(response.text)
    assert accessibility_problems(page, language) == []
    assert page.find(class_="error-summary").find("a").attrs["href"] == "#email"
    assert page.find("input", name="email").attrs["value"] == "hanako.example.jp"
    assert mailbox.messages == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_when_the_mail_server_is_down_the_page_says_so_and_the_draft_is_kept(
    settings: Settings, session: AsyncSession, language: str
) -> None:
    down = create_app(settings.model_copy(update={"smtp_port": free_port()}))
    with TestClient(down) as client:
        draft = start_draft(client)
        answer_first_page(client, draft)
        client.cookies.set("lang", language)
        response = client.post(
            f"{draft}/save", data={"email": EMAIL, "csrf_token": form_token(client)}
        )
        assert response.status_code == 503
        page = Page(response.text)
        assert accessibility_problems(page, language) == []
        if language == "en":
            assert "We could not send the email. Try again in a few minutes." in page.main.text

        continued = client.get(draft, follow_redirects=False)
        assert continued.headers["location"] == f"{draft}/pages/opinions"  # nothing lost
    stored = await stored_draft(session, draft)
    assert stored.email is None  # the address was not kept for a link that was never sent


@pytest.mark.usefixtures("signed_in_by_card")
async def test_a_draft_is_found_only_at_its_own_body_and_procedure(client: TestClient) -> None:
    consultation = start_draft(client)
    moving = start_draft(client, "/bodies/011002/procedures/change-of-address")
    consultation_id = consultation.rsplit("/", 1)[1]
    moving_id = moving.rsplit("/", 1)[1]

    assert client.get(f"{consultation}/save").status_code == 200
    assert client.get(f"{moving}/save").status_code == 200
    elsewhere = [
        f"/bodies/011002/procedures/change-of-address/drafts/{consultation_id}/save",
        f"/bodies/011002/procedures/metaverse-consultation/drafts/{consultation_id}/save",
        f"/bodies/soumu/procedures/change-of-address/drafts/{consultation_id}/save",
        f"/bodies/soumu/procedures/change-of-address/drafts/{moving_id}/save",
        f"{CONSULTATION}/drafts/{moving_id}/save",
        f"{CONSULTATION}/drafts/not-an-id/save",
        f"{CONSULTATION}/drafts/{uuid.uuid4()}/save",
    ]
    for address in elsewhere:
        assert client.get(address).status_code == 404, address
        sent = client.post(address, data={"email": EMAIL, "csrf_token": form_token(client)})
        assert sent.status_code == 404, address


async def test_a_sent_draft_leads_to_its_receipt(client: TestClient, session: AsyncSession) -> None:
    draft = start_draft(client)
    stored = await stored_draft(session, draft)
    stored.submission_id = uuid.uuid4()
    await session.commit()

    receipt = f"/bodies/soumu/submissions/{stored.submission_id}"
    shown = client.get(f"{draft}/save", follow_redirects=False)
    assert (shown.status_code, shown.headers["location"]) == (303, receipt)
    sent = client.post(
        f"{draft}/save",
        data={"email": EMAIL, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert (sent.status_code, sent.headers["location"]) == (303, receipt)


def test_saving_again_and_again_is_stopped_before_the_mailbox_fills(
    client: TestClient, mailbox: Mailbox
) -> None:
    draft = start_draft(client)
    for _ in range(LINKS_PER_HOUR):
        save(client, draft)
    client.cookies.set("lang", "en")
    response = client.post(f"{draft}/save", data={"email": EMAIL, "csrf_token": form_token(client)})
    assert response.status_code == 429
    page = Page(response.text)
    assert accessibility_problems(page, "en") == []
    assert page.find(class_="error-summary").find("a").attrs["href"] == "#email"
    assert len(mailbox.messages) == LINKS_PER_HOUR


def test_a_form_from_elsewhere_is_refused(client: TestClient, mailbox: Mailbox) -> None:
    draft = start_draft(client)
    assert client.post(f"{draft}/save", data={"email": EMAIL}).status_code == 400
    assert mailbox.messages == []


async def stored_draft(session: AsyncSession, address: str) -> Draft:
    """The row of the draft at ``address`` (/bodies/{code}/procedures/{slug}/drafts/{id})."""
    parts = address.split("/")
    tenant = await tenants.get_tenant(session, parts[2])
    found = await session.scalar(
        select(Draft)
        .where(Draft.tenant_id == tenant.id, Draft.id == uuid.UUID(parts[6]))
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found
