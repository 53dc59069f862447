"""Signing in with a My Number card through the built-in simulator, in process: the whole
authorization code flow, what it records, and every way it must refuse."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import simulator_issuer
from madoguchi.identity.card_simulator.cards import find_card
from madoguchi.identity.jose_keys import generate_rsa_key
from madoguchi.identity.models import AuditEntry, CardIdentity, Person
from tests.support.cards import (
    HANAKO,
    PIN,
    in_database,
    issue,
    query_of,
    read_card,
    revoke,
    sign_in_with,
    start,
)
from tests.support.html import Page, accessibility_problems, get_page

LANGUAGES = ["ja", "en"]


def signed_in_name(client: TestClient) -> str | None:
    _, page = get_page(client, "/", "en")
    shown = page.find_all(class_="account-email")
    return shown[0].text if shown else None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_page_offers_the_card_first_and_a_virtual_card(
    client: TestClient, language: str
) -> None:
    response, page = get_page(client, "/sign-in?next=/me", language)
    assert response.status_code == 200
    headings = [h.text for h in page.find_all("h2")]
    if language == "en":  # Japanese waits for the catalogue (the lead fills it)
        assert headings[0] == "Sign in with your My Number card"
        assert accessibility_problems(page, language) == []
    links = {a.attrs.get("href") for a in page.find_all("a")}
    assert "/sign-in/card/start?next=/me" in links
    assert "/card-simulator/cards/new" in links


def test_a_card_signs_in_with_high_assurance_and_records_the_attributes(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings, HANAKO)
    arrived = sign_in_with(client, card, next_path="/me")
    assert arrived.status_code == 200
    assert str(arrived.url).endswith("/me")
    assert signed_in_name(client) == "Signed in as 山田 花子"  # the header folds the space

    async def recorded(session: AsyncSession) -> tuple[Person, CardIdentity, list[AuditEntry]]:
        identity = (await session.scalars(select(CardIdentity))).one()
        person = await session.get_one(Person, identity.person_id)
        entries = (await session.scalars(select(AuditEntry))).all()
        return person, identity, list(entries)

    person, identity, entries = in_database(database_url, recorded)
    assert identity.issuer == simulator_issuer(settings)
    assert identity.subject != card.card_number and len(identity.subject) >= 32
    assert (person.name, person.address) == (HANAKO.name, HANAKO.address)
    assert (person.birthdate, person.gender) == (HANAKO.birthdate, "female")
    assert person.card_proven_at is not None and person.attributes_verified_at is not None
    sign_ins = [e for e in entries if e.action == "sign_in.card"]
    assert [e.actor for e in sign_ins] == [f"person:{person.id}"]
    assert sign_ins[0].details == {"assurance": "high"}


def test_the_same_card_is_the_same_person_next_time(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    sign_in_with(client, card)
    client.cookies.clear()
    sign_in_with(client, card)

    async def people(session: AsyncSession) -> int:
        return len((await session.scalars(select(Person))).all())

    assert in_database(database_url, people) == 1


def test_the_next_page_must_be_on_this_site(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    arrived = sign_in_with(client, card, next_path="//evil.example/steal")
    assert str(arrived.url) == "http://testserver/me"


def test_a_state_works_once(client: TestClient, database_url: str, settings: Settings) -> None:
    card = issue(database_url, settings)
    answer = read_card(client, start(client), card.card_number)
    callback = answer.headers["location"]
    assert client.get(callback, follow_redirects=False).status_code == 303
    replayed = client.get(callback, follow_redirects=False)
    assert replayed.status_code == 400
    assert "already finished" in Page(replayed.text).find("main").text or replayed.text


def test_a_state_from_another_browser_is_refused(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    """The state lives in the session of the browser that started: a callback carried to
    another browser (login CSRF) signs nobody in."""
    card = issue(database_url, settings)
    callback = read_card(client, start(client), card.card_number).headers["location"]
    client.cookies.clear()
    refused = client.get(callback, follow_redirects=False)
    assert refused.status_code == 400
    assert signed_in_name(client) is None


def test_cancelling_at_the_card_reader_comes_back_as_a_clear_page(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    answer = read_card(client, start(client), card.card_number, action="cancel")
    assert query_of(answer.headers["location"])["error"] == "access_denied"
    client.cookies.set("lang", "en")
    page = client.get(answer.headers["location"])
    assert page.status_code == 400
    assert "You stopped signing in with your card" in page.text
    assert signed_in_name(client) is None


def test_an_expired_certificate_is_refused(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    """Issued in 2015 to someone born on 1 June: valid to 1 June 2019 (the 5th birthday after
    issue), refused today."""
    holder = HANAKO.__class__(HANAKO.name, HANAKO.address, dt.date(1980, 6, 1), "2")
    card = issue(database_url, settings, holder, today=dt.date(2015, 1, 5))
    assert card.expires_on == dt.date(2019, 6, 1)
    answer = read_card(client, start(client), card.card_number)
    assert answer.status_code == 403
    assert "certificate is not valid" in answer.text or "証明書" in answer.text


def test_a_card_not_issued_by_the_residents_authority_is_refused(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    in_database(database_url, lambda session: _reissue_by_a_stranger(session, card.card_number))
    answer = read_card(client, start(client), card.card_number)
    assert answer.status_code == 403
    assert "location" not in answer.headers


def test_a_revoked_card_is_refused_with_the_reason(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    revoke(database_url, card.card_number)
    answer = read_card(client, start(client), card.card_number)
    assert answer.status_code == 403
    assert "revoked" in answer.text or "失効" in answer.text
    assert signed_in_name(client) is None


async def _reissue_by_a_stranger(session: AsyncSession, card_number: str) -> None:
    """The same certificate, signed by a key no authority of the platform holds."""
    card = await find_card(session, card_number)
    genuine = x509.load_pem_x509_certificate(card.authentication_certificate_pem.encode())
    stranger = generate_rsa_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(genuine.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    forged = builder.sign(stranger, hashes.SHA256())
    card.authentication_certificate_pem = forged.public_bytes(Encoding.PEM).decode()


def test_a_wrong_pin_does_not_sign_in(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    wrong = "0000" if PIN != "0000" else "1111"
    answer = read_card(client, start(client), card.card_number, pin=wrong)
    assert answer.status_code == 422
    assert signed_in_name(client) is None
