"""The passkeys page, removing a passkey (a sensitive change), the rate limit on failed passkey
sign-ins, and the passkey section of /sign-in."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from madoguchi.identity import passkeys
from madoguchi.identity.models import AuditEntry
from madoguchi.identity.models.passkeys import Passkey
from tests.identity.test_passkeys import (
    ORIGIN,
    actions,
    age_card_proof,
    card_proven_resident,
    query,
    refused,
)
from tests.support.authenticator import (
    SoftwareAuthenticator,
    add_passkey,
    forget_session,
    page_token,
    post_json,
    sign_in,
)
from tests.support.html import Page, accessibility_problems
from tests.support.mail import another_browser
from tests.support.people import make_person, signed_in

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def in_english(client: TestClient) -> None:
    """Messages are checked in English (the message ids); Japanese is the default."""
    client.cookies.set("lang", "en")


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ORIGIN)


def passkey_ids(database_url: str) -> list[uuid.UUID]:
    return [row[0] for row in query(database_url, select(Passkey.id).order_by(Passkey.created_at))]


def remove(client: TestClient, passkey_id: uuid.UUID, token: str | None) -> Any:
    data = {"csrf_token": token} if token is not None else {}
    return client.post(f"/account/passkeys/{passkey_id}/remove", data=data, follow_redirects=False)


# --- The page and removing -----------------------------------------------------------------


def test_the_page_lists_the_passkeys_with_a_button_to_remove_each(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator, name="私のスマホ")
    add_passkey(client, token, authenticator, name="")  # named for the day it was added
    page = Page(client.get("/account/passkeys").text)
    assert accessibility_problems(page, "en") == []
    rows = page.find_all("tr")[1:]
    assert rows[0].find("th").text == "私のスマホ"
    assert rows[1].find("th").text.startswith("Passkey added on ")
    assert [button.text for button in page.find_all("button", type="submit")][-2:] == [
        "Remove 私のスマホ",
        f"Remove {rows[1].find('th').text}",
    ]
    assert "proven by your My Number card" in rows[0].text


def test_removing_a_passkey_with_a_fresh_card_proof(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator)
    [passkey_id] = passkey_ids(database_url)
    answer = remove(client, passkey_id, token)
    assert (answer.status_code, answer.headers["location"]) == (303, "/account/passkeys?removed=1")
    assert passkey_ids(database_url) == []
    assert actions(database_url)[-2:] == ["passkey.added", "passkey.removed"]
    [(subject,)] = query(
        database_url, select(AuditEntry.subject).where(AuditEntry.action == "passkey.removed")
    )
    assert subject == f"passkey:{passkey_id}"
    forget_session(client)
    refused(sign_in(client, page_token(client), authenticator))  # it signs nobody in any more


def test_removing_after_an_old_card_proof_asks_for_the_card_again(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    person_id, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator)
    [passkey_id] = passkey_ids(database_url)
    age_card_proof(database_url, person_id, minutes=11)
    answer = remove(client, passkey_id, token)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in/card/start?next=/account/passkeys"
    assert passkey_ids(database_url) == [passkey_id]


def test_a_session_signed_in_by_passkey_must_confirm_with_the_card_to_remove(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator)
    [passkey_id] = passkey_ids(database_url)
    forget_session(client)
    assert sign_in(client, page_token(client), authenticator).status_code == 200
    answer = remove(client, passkey_id, page_token(client, "/account/passkeys"))
    assert answer.headers["location"] == "/sign-in/card/start?next=/account/passkeys"
    assert passkey_ids(database_url) == [passkey_id]


def test_another_persons_passkey_cannot_be_removed(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator)
    [passkey_id] = passkey_ids(database_url)
    with another_browser(client) as other:
        _, other_token = card_proven_resident(other, database_url)
        assert remove(other, passkey_id, other_token).status_code == 404
    assert passkey_ids(database_url) == [passkey_id]


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
def test_removing_without_the_form_token_is_refused(
    client: TestClient,
    database_url: str,
    authenticator: SoftwareAuthenticator,
    token: str | None,
) -> None:
    _, real = card_proven_resident(client, database_url)
    add_passkey(client, real, authenticator)
    [passkey_id] = passkey_ids(database_url)
    assert remove(client, passkey_id, token).status_code == 400
    assert passkey_ids(database_url) == [passkey_id]


def test_removing_when_signed_out_leads_to_sign_in(client: TestClient) -> None:
    token = page_token(client)
    answer = remove(client, uuid.uuid4(), token)
    assert answer.headers["location"] == "/sign-in?next=/account/passkeys"


# --- Rate limit ----------------------------------------------------------------------------


def test_ten_failed_passkey_sign_ins_in_a_session_are_the_limit(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    add_passkey(client, token, authenticator)
    forget_session(client)
    token = page_token(client)
    for _ in range(passkeys.FAILURES_PER_SESSION):
        refused(sign_in(client, token, authenticator, origin="https://elsewhere.example"))
    detail = refused(
        post_json(client, "/sign-in/passkey/options", token), 429, "too-many-passkey-attempts"
    )
    assert detail.startswith("Too many passkey sign-ins failed from here. Wait 10 minutes")
    assertion = authenticator.get({"rpId": "127.0.0.1", "challenge": "AAAA"})
    refused(
        post_json(client, "/sign-in/passkey", token, {"credential": assertion}),
        429,
        "too-many-passkey-attempts",
    )


def test_failures_from_one_address_count_across_fresh_sessions(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping the cookie does not reset the count: the client's address is counted too."""
    monkeypatch.setattr(passkeys, "FAILURES_PER_ADDRESS", 4)
    for _ in range(4):
        forget_session(client)
        token = page_token(client)
        post_json(client, "/sign-in/passkey/options", token)
        refused(post_json(client, "/sign-in/passkey", token, {"credential": {"rawId": "AAAA"}}))
    forget_session(client)
    answer = post_json(client, "/sign-in/passkey/options", page_token(client))
    refused(answer, 429, "too-many-passkey-attempts")


def test_old_failures_no_longer_count(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passkeys, "FAILURE_WINDOW", dt.timedelta(seconds=0))
    token = page_token(client)
    for _ in range(passkeys.FAILURES_PER_SESSION + 1):
        post_json(client, "/sign-in/passkey/options", token)
        refused(post_json(client, "/sign-in/passkey", token, {"credential": {"rawId": "AAAA"}}))


# --- The sign-in page --------------------------------------------------------------------


def test_the_sign_in_page_offers_a_passkey_and_says_it_needs_javascript(
    client: TestClient,
) -> None:
    html = client.get("/sign-in?next=/me").text
    page = Page(html)
    assert accessibility_problems(page, "en") == []
    section = page.by_id("passkey-heading").parent
    assert section is not None
    assert "Sign in with a passkey" in section.text
    assert "needs JavaScript" in section.text and "other ways on this page work" in section.text
    assert '<script defer src="/static/passkeys.js"></script>' in html
    assert 'data-next="/me"' in html
    # the button is there for JavaScript to show; hidden until then
    assert re.search(
        r'<button type="button" class="button" data-passkey-sign-in-button hidden>', html
    )


def test_the_script_is_served(client: TestClient) -> None:
    script = client.get("/static/passkeys.js")
    assert script.status_code == 200
    assert "X-CSRF-Token" in script.text


def test_a_person_without_a_card_sees_how_to_get_one_proven(
    client: TestClient, database_url: str
) -> None:
    person_id = make_person(database_url, email="hanako@example.jp")
    signed_in(client, database_url, person_id)
    # A card session that has aged: the page asks to confirm with the card, not to add.
    age_card_proof(database_url, person_id, minutes=30)
    page = Page(client.get("/account/passkeys").text)
    assert accessibility_problems(page, "en") == []
    assert "You have no passkeys yet." in page.main.text
    assert "Confirm with your My Number card" in page.main.text
