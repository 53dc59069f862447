"""Passkeys at the protocol level: a software authenticator registers and signs in, and every
way an answer can be wrong (origin, rp id, challenge, flags, counter, key, signature) is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.identity.models import AuditEntry, SignInMethod, WebSession
from madoguchi.identity.models.passkeys import Passkey
from tests.support.authenticator import (
    FLAG_AT,
    FLAG_UP,
    SoftwareAuthenticator,
    add_passkey,
    forget_session,
    page_token,
    post_json,
    sign_in,
    sign_in_options,
)
from tests.support.mail import another_browser
from tests.support.people import make_person, signed_in

ORIGIN = "http://127.0.0.1:8000"  # settings.resolved_public_url() of the tests' settings


def query(database_url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as db:
                return list((await db.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def actions(database_url: str) -> list[str]:
    return [
        row[0] for row in query(database_url, select(AuditEntry.action).order_by(AuditEntry.seq))
    ]


def passkey_sessions(database_url: str, person_id: uuid.UUID) -> list[int]:
    """The assurance of each session signed in with a passkey."""
    statement = select(WebSession.assurance).where(
        WebSession.person_id == person_id, WebSession.method == SignInMethod.PASSKEY.value
    )
    return [row[0] for row in query(database_url, statement)]


def card_proven_resident(client: TestClient, database_url: str) -> tuple[uuid.UUID, str]:
    """A resident proven by the card, signed in by the card just now; the form token."""
    person_id = make_person(database_url, card_proven_at=dt.datetime.now(dt.UTC))
    return person_id, signed_in(client, database_url, person_id)


@pytest.fixture(autouse=True)
def in_english(client: TestClient) -> None:
    """Messages are checked in English (the message ids); Japanese is the default."""
    client.cookies.set("lang", "en")


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ORIGIN)


@pytest.fixture
def registered(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> uuid.UUID:
    """A card-proven resident with one passkey in ``authenticator``; ``client`` is signed out."""
    person_id, token = card_proven_resident(client, database_url)
    added = add_passkey(client, token, authenticator, name="私のスマホ")
    assert added.status_code == 200, added.text
    forget_session(client)
    return person_id


def refused(response: Any, status: int = 400, code: str = "passkey-refused") -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    return str(response.json()["detail"])


# --- Adding, then signing in ---------------------------------------------------------------


def test_a_resident_adds_a_passkey_and_signs_in_with_it_at_high_assurance(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    person_id, token = card_proven_resident(client, database_url)
    options = post_json(client, "/account/passkeys/options", token).json()
    assert options["rp"] == {"id": "127.0.0.1", "name": "madoguchi"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["id"] == authenticator_user_id(person_id)

    added = post_json(
        client,
        "/account/passkeys",
        token,
        {"credential": authenticator.create(options), "name": "私のスマホ"},
    )
    assert added.json() == {"location": "/account/passkeys?added=1"}
    page = client.get("/account/passkeys?added=1")
    assert "私のスマホ" in page.text and "Your passkey was added" in page.text

    forget_session(client)
    token = page_token(client)
    answer = sign_in(client, token, authenticator, next_path="/bodies/011002")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"location": "/bodies/011002"}
    assert passkey_sessions(database_url, person_id) == [2]
    [(stored,)] = query(database_url, select(Passkey))
    assert stored.card_bound and stored.sign_count == 1 and stored.last_used_at is not None
    assert stored.transports == ["internal", "hybrid"]
    assert actions(database_url)[-2:] == ["passkey.added", "sign_in.passkey"]


def authenticator_user_id(person_id: uuid.UUID) -> str:
    from tests.support.authenticator import b64url

    return b64url(person_id.bytes)


def test_a_sign_in_leads_only_to_a_page_of_this_site(
    client: TestClient, registered: uuid.UUID, authenticator: SoftwareAuthenticator
) -> None:
    answer = sign_in(client, page_token(client), authenticator, next_path="https://evil.example")
    assert answer.json() == {"location": "/me"}


def test_a_passkey_added_without_a_card_proof_signs_in_at_low_assurance(
    app: Any, client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    """An invited official (never proven by a card) is let through once by allow_registration."""
    from madoguchi.identity.passkeys import allow_registration

    async def accept_invitation(request: Request) -> dict[str, bool]:
        allow_registration(request)
        return {"allowed": True}

    app.add_api_route("/test/accept-invitation", accept_invitation, methods=["GET"])
    person_id = make_person(database_url, email="official@city.sapporo.jp")
    token = signed_in(client, database_url, person_id, SignInMethod.EMAIL)
    assert refused(
        post_json(client, "/account/passkeys/options", token), 403, "card-sign-in-needed"
    )
    client.get("/test/accept-invitation")
    assert add_passkey(client, token, authenticator).status_code == 200
    # once only: a second passkey needs another invitation (or a card sign-in)
    assert refused(
        post_json(client, "/account/passkeys/options", token), 403, "card-sign-in-needed"
    )

    forget_session(client)
    assert sign_in(client, page_token(client), authenticator).status_code == 200
    assert passkey_sessions(database_url, person_id) == [1]


def test_a_synced_passkey_whose_counter_stays_at_zero_signs_in_again(
    client: TestClient, database_url: str
) -> None:
    authenticator = SoftwareAuthenticator(origin=ORIGIN, counts_signatures=False)
    _, token = card_proven_resident(client, database_url)
    assert add_passkey(client, token, authenticator).status_code == 200
    forget_session(client)
    for _ in range(2):
        assert sign_in(client, page_token(client), authenticator).status_code == 200


# --- Sign-in refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"origin": "https://madoguchi.example"}, id="wrong-origin"),
        pytest.param({"origin": "http://127.0.0.1:8001"}, id="wrong-port"),
        pytest.param({"rp_id": "madoguchi.example"}, id="wrong-rp-id"),
        pytest.param({"flags": FLAG_UP}, id="user-not-verified"),
        pytest.param({"tamper": True}, id="tampered-signature"),
        pytest.param({"challenge": "bm90LXRoZS1jaGFsbGVuZ2U"}, id="another-challenge"),
    ],
)
def test_a_wrong_assertion_is_refused(
    client: TestClient,
    database_url: str,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
    changes: dict[str, Any],
) -> None:
    detail = refused(sign_in(client, page_token(client), authenticator, **changes))
    assert "could not be verified" in detail or "expired" in detail
    assert passkey_sessions(database_url, registered) == []


def test_the_same_assertion_posted_twice_is_refused_the_second_time(
    client: TestClient,
    database_url: str,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
) -> None:
    token = page_token(client)
    assertion = authenticator.get(sign_in_options(client, token))
    first = post_json(client, "/sign-in/passkey", token, {"credential": assertion})
    assert first.status_code == 200
    token = page_token(client, "/account/passkeys")  # signing in gave a new form token
    detail = refused(post_json(client, "/sign-in/passkey", token, {"credential": assertion}))
    assert "expired or was already used" in detail


def test_an_assertion_for_a_challenge_already_replaced_is_refused(
    client: TestClient, registered: uuid.UUID, authenticator: SoftwareAuthenticator
) -> None:
    token = page_token(client)
    old = authenticator.get(sign_in_options(client, token))
    sign_in_options(client, token)  # a second click: the first challenge is gone
    refused(post_json(client, "/sign-in/passkey", token, {"credential": old}))


def test_an_expired_challenge_is_refused(
    client: TestClient,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from madoguchi.identity import passkeys

    monkeypatch.setattr(passkeys, "CHALLENGE_LIFETIME", dt.timedelta(seconds=-1))
    assert "expired" in refused(sign_in(client, page_token(client), authenticator))


def test_an_assertion_in_another_browser_finds_no_challenge(
    client: TestClient, registered: uuid.UUID, authenticator: SoftwareAuthenticator
) -> None:
    assertion = authenticator.get(sign_in_options(client, page_token(client)))
    with another_browser(client) as other:
        token = page_token(other)
        refused(post_json(other, "/sign-in/passkey", token, {"credential": assertion}))


@pytest.mark.parametrize("presented", [0, 1, 3], ids=["reset", "same", "lower"])
def test_a_counter_that_did_not_go_up_means_a_clone_and_is_refused_and_audited(
    client: TestClient,
    database_url: str,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
    presented: int,
) -> None:
    for _ in range(4):  # the counter is now 4 (the first sign-in counted 1)
        assert sign_in(client, page_token(client), authenticator).status_code == 200
    forget_session(client)
    detail = refused(sign_in(client, page_token(client), authenticator, sign_count=presented))
    assert "a copy of it seems to be in use elsewhere" in detail
    assert actions(database_url)[-1] == "passkey.clone_suspected"
    [(details,)] = query(
        database_url,
        select(AuditEntry.details).where(AuditEntry.action == "passkey.clone_suspected"),
    )
    assert details["stored_count"] == 4 and details["presented_count"] == presented
    [(count,)] = query(database_url, select(Passkey.sign_count))
    assert count == 4


def test_an_unknown_credential_is_refused(client: TestClient, registered: uuid.UUID) -> None:
    stranger = SoftwareAuthenticator(origin=ORIGIN)
    stranger.create({"rp": {"id": "127.0.0.1"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    assert "not registered" in refused(sign_in(client, page_token(client), stranger))


def test_a_credential_presented_for_another_person_is_refused(
    client: TestClient,
    database_url: str,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
) -> None:
    with another_browser(client) as other:
        other_id, token = card_proven_resident(other, database_url)
        assert add_passkey(other, token, SoftwareAuthenticator(origin=ORIGIN)).status_code == 200
    answer = sign_in(client, page_token(client), authenticator, user_handle=other_id.bytes)
    assert "not registered" in refused(answer)
    assert passkey_sessions(database_url, other_id) == []


def test_a_malformed_answer_is_refused_clearly(client: TestClient, registered: uuid.UUID) -> None:
    token = page_token(client)
    sign_in_options(client, token)
    refused(post_json(client, "/sign-in/passkey", token, {"credential": {"rawId": "***"}}))
    sign_in_options(client, token)
    refused(post_json(client, "/sign-in/passkey", token, {"credential": "nothing"}))
    bad = client.post("/sign-in/passkey", content=b"[not json", headers={"X-CSRF-Token": token})
    refused(bad, 400, "invalid-input")


def test_a_disabled_person_cannot_sign_in_with_a_passkey(
    client: TestClient,
    database_url: str,
    registered: uuid.UUID,
    authenticator: SoftwareAuthenticator,
) -> None:
    from sqlalchemy import update

    from madoguchi.identity.models import Person

    async def disable() -> None:
        engine = create_engine(database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as db:
                await db.execute(
                    update(Person)
                    .where(Person.id == registered)
                    .values(disabled_at=dt.datetime.now(dt.UTC))
                )
        finally:
            await engine.dispose()

    asyncio.run(disable())
    answer = sign_in(client, page_token(client), authenticator)
    assert "disabled" in refused(answer, 403, "account-disabled")
    assert passkey_sessions(database_url, registered) == []


# --- Registration refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"origin": "https://madoguchi.example"}, id="wrong-origin"),
        pytest.param({"rp_id": "madoguchi.example"}, id="wrong-rp-id"),
        pytest.param({"flags": FLAG_UP | FLAG_AT}, id="user-not-verified"),
        pytest.param({"challenge": "bm90LXRoZS1jaGFsbGVuZ2U"}, id="another-challenge"),
    ],
)
def test_a_wrong_registration_is_refused(
    client: TestClient,
    database_url: str,
    authenticator: SoftwareAuthenticator,
    changes: dict[str, Any],
) -> None:
    _, token = card_proven_resident(client, database_url)
    refused(add_passkey(client, token, authenticator, **changes))
    assert query(database_url, select(Passkey.id)) == []


def test_the_same_registration_posted_twice_is_refused(
    client: TestClient, database_url: str, authenticator: SoftwareAuthenticator
) -> None:
    _, token = card_proven_resident(client, database_url)
    options = post_json(client, "/account/passkeys/options", token).json()
    body = {"credential": authenticator.create(options)}
    assert post_json(client, "/account/passkeys", token, body).status_code == 200
    refused(post_json(client, "/account/passkeys", token, body))
    options = post_json(client, "/account/passkeys/options", token).json()
    again = authenticator.create(options, reuse=authenticator.credentials[0])
    assert "already" in refused(
        post_json(client, "/account/passkeys", token, {"credential": again})
    )
    assert len(query(database_url, select(Passkey.id))) == 1


def test_a_resident_signed_in_by_email_is_told_to_use_the_card_first(
    client: TestClient, database_url: str
) -> None:
    person_id = make_person(database_url, card_proven_at=dt.datetime.now(dt.UTC))
    token = signed_in(client, database_url, person_id, SignInMethod.EMAIL)
    page = client.get("/account/passkeys")
    assert "first sign in with your My Number card" in page.text
    assert 'href="/sign-in/card/start?next=/account/passkeys"' in page.text
    assert "data-passkey-add" not in page.text
    answer = post_json(client, "/account/passkeys/options", token)
    assert "first sign in with your My Number card" in refused(answer, 403, "card-sign-in-needed")
    assert answer.json()["location"] == "/sign-in/card/start?next=/account/passkeys"


def test_a_card_proof_older_than_ten_minutes_must_be_renewed(
    client: TestClient, database_url: str
) -> None:
    person_id, token = card_proven_resident(client, database_url)
    age_card_proof(database_url, person_id, minutes=11)
    page = client.get("/account/passkeys")
    assert "Confirm with your My Number card" in page.text
    answer = post_json(client, "/account/passkeys/options", token)
    assert "more than 10 minutes ago" in refused(answer, 403, "card-sign-in-needed")


def age_card_proof(database_url: str, person_id: uuid.UUID, minutes: int) -> None:
    from sqlalchemy import update

    async def run() -> None:
        engine = create_engine(database_url)
        then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        try:
            async with unit_of_work(create_session_factory(engine)) as db:
                await db.execute(
                    update(WebSession)
                    .where(WebSession.person_id == person_id)
                    .values(card_proven_at=then)
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_nobody_signed_in_cannot_add_a_passkey(client: TestClient) -> None:
    token = page_token(client)
    refused(post_json(client, "/account/passkeys/options", token), 401, "not-signed-in")
    page = client.get("/account/passkeys", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/account/passkeys"


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "wrong-token"], ids=["missing", "empty", "wrong"])
@pytest.mark.parametrize(
    "path",
    [
        "/sign-in/passkey/options",
        "/sign-in/passkey",
        "/account/passkeys/options",
        "/account/passkeys",
    ],
)
def test_a_json_post_without_the_session_form_token_is_refused(
    client: TestClient, database_url: str, path: str, header: str | None
) -> None:
    card_proven_resident(client, database_url)
    refused(post_json(client, path, header), 400, "form-expired")


def test_the_form_token_of_another_session_is_refused(client: TestClient) -> None:
    page_token(client)
    with another_browser(client) as other:
        others = page_token(other)
    refused(post_json(client, "/sign-in/passkey/options", others), 400, "form-expired")
