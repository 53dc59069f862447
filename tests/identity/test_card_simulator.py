"""The card simulator as a provider: the PIN and password locks, the rate limit, the token
endpoint's refusals, getting a virtual card, and where it is switched off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import card_provider, simulator_enabled, simulator_issuer
from madoguchi.identity.card_simulator import limits
from madoguchi.identity.card_simulator.cards import find_card
from madoguchi.identity.card_simulator.chip import MAX_TRIES
from madoguchi.identity.jose_keys import verify_jwt
from madoguchi.web.app import create_app
from tests.support.cards import (
    PASSWORD,
    PIN,
    OwnRequest,
    in_database,
    issue,
    query_of,
    read_card,
    start,
)
from tests.support.html import Page, accessibility_problems, get_page

WRONG_PIN = "9876"


def main_text(html: str) -> str:
    return Page(html).find("main").text


def test_a_wrong_pin_says_how_many_tries_are_left_and_the_fifth_locks(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    client.cookies.set("lang", "en")
    for left in range(MAX_TRIES - 1, 0, -1):
        answer = read_card(client, start(client), card.card_number, pin=WRONG_PIN)
        assert answer.status_code == 422
        assert f"Tries left before this card's PIN locks: {left}." in main_text(answer.text)
    locked = read_card(client, start(client), card.card_number, pin=WRONG_PIN)
    assert locked.status_code == 403
    assert "This card's PIN is locked" in main_text(locked.text)
    # Locked stays locked, even with the right PIN.
    again = read_card(client, start(client), card.card_number, pin=PIN)
    assert again.status_code == 403
    assert "This card's PIN is locked" in main_text(again.text)

    async def state(session: AsyncSession) -> tuple[int, bool]:
        stored = await find_card(session, card.card_number)
        return stored.pin_failures, stored.pin_locked_at is not None

    assert in_database(database_url, state) == (MAX_TRIES, True)


def test_a_locked_card_goes_back_to_the_service_as_a_clear_page(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    client.cookies.set("lang", "en")
    for _ in range(MAX_TRIES):
        read_card(client, start(client), card.card_number, pin=WRONG_PIN)
    back = read_card(client, start(client), card.card_number, action="card_locked")
    assert query_of(back.headers["location"])["error"] == "card_locked"
    page = client.get(back.headers["location"])
    assert page.status_code == 400
    assert "Your card is locked after five wrong tries" in main_text(page.text)


def test_the_right_pin_resets_the_count(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    read_card(client, start(client), card.card_number, pin=WRONG_PIN)
    assert read_card(client, start(client), card.card_number).status_code == 303

    async def failures(session: AsyncSession) -> int:
        return (await find_card(session, card.card_number)).pin_failures

    assert in_database(database_url, failures) == 0


def test_a_wrong_signature_password_counts_against_the_password(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    client.cookies.set("lang", "en")
    answer = read_card(client, start(client), card.card_number, password="WRONG123")
    assert answer.status_code == 422
    assert "Tries left before it locks: 4." in main_text(answer.text)


def test_an_unknown_card_and_badly_typed_secrets_are_named(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    answer = read_card(client, start(client), "7KQ2-9XMD-R", pin="12", password="x")
    assert answer.status_code == 422
    text = main_text(answer.text)
    assert "No virtual card has this card number" in text or "card number" in text
    assert "Enter the PIN: 4 digits." in text
    assert "Enter the signature password" in text


def test_the_reader_is_rate_limited_per_client(client: TestClient) -> None:
    authorize = start(client)
    for _ in range(limits.MOST_TRIES):
        assert read_card(client, authorize, "7KQ2-9XMD-R").status_code == 422
    refused = read_card(client, authorize, "7KQ2-9XMD-R")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"


def test_the_reader_refuses_a_form_without_its_token(client: TestClient) -> None:
    own = OwnRequest.make()
    form = own.params | {"card_number": "7KQ2-9XMD-R", "pin": PIN, "action": "sign_in"}
    assert client.post("/card-simulator/authorize", data=form).status_code == 400


def test_an_unknown_client_or_redirect_is_never_redirected_to(client: TestClient) -> None:
    own = OwnRequest.make()
    own.params["redirect_uri"] = "https://evil.example/callback"
    response = client.get(own.url(), follow_redirects=False)
    assert response.status_code == 400
    other = OwnRequest.make(client_id="someone-else")
    assert client.get(other.url(), follow_redirects=False).status_code == 400


def test_a_request_without_pkce_goes_back_with_an_error(client: TestClient) -> None:
    own = OwnRequest.make()
    del own.params["code_challenge_method"]
    response = client.get(own.url(), follow_redirects=False)
    assert response.status_code == 303
    assert query_of(response.headers["location"])["error"] == "invalid_request"


def code_for(client: TestClient, database_url: str, settings: Settings) -> tuple[OwnRequest, str]:
    card = issue(database_url, settings)
    own = OwnRequest.make()
    answer = read_card(client, own.url(), card.card_number, password=None)
    assert answer.status_code == 303, answer.text
    return own, query_of(answer.headers["location"])["code"]


def exchange(
    client: TestClient, settings: Settings, own: OwnRequest, code: str, **changes: str
) -> tuple[int, dict[str, str]]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": own.params["redirect_uri"],
        "code_verifier": own.verifier,
        "client_id": settings.card_client_id,
        "client_secret": settings.resolved_card_client_secret(),
    } | changes
    response = client.post("/card-simulator/token", data=form)
    return response.status_code, response.json()


def test_a_code_works_once(client: TestClient, database_url: str, settings: Settings) -> None:
    own, code = code_for(client, database_url, settings)
    status, body = exchange(client, settings, own, code)
    assert status == 200
    jwks = client.get("/card-simulator/jwks").json()
    claims, _ = verify_jwt(body["id_token"], jwks)
    assert claims["iss"] == simulator_issuer(settings)
    assert claims["nonce"] == own.params["nonce"]
    assert "name" not in claims  # openid alone: no attributes
    assert exchange(client, settings, own, code) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "the code is unknown, expired or already used",
        },
    )


def test_a_pkce_mismatch_is_refused_and_uses_the_code_up(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    own, code = code_for(client, database_url, settings)
    status, body = exchange(client, settings, own, code, code_verifier="x" * 50)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert exchange(client, settings, own, code)[0] == 400


def test_a_wrong_client_secret_is_refused(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    own, code = code_for(client, database_url, settings)
    status, body = exchange(client, settings, own, code, client_secret="guess")
    assert (status, body["error"]) == (401, "invalid_client")
    assert exchange(client, settings, own, code)[0] == 200  # the code was not spent


def test_another_redirect_uri_at_the_token_endpoint_is_refused(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    own, code = code_for(client, database_url, settings)
    status, body = exchange(client, settings, own, code, redirect_uri="http://testserver/x")
    assert (status, body["error"]) == (400, "invalid_grant")


def test_client_secret_basic_is_accepted(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    own, code = code_for(client, database_url, settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": own.params["redirect_uri"],
        "code_verifier": own.verifier,
    }
    auth = (settings.card_client_id, settings.resolved_card_client_secret())
    assert client.post("/card-simulator/token", data=form, auth=auth).status_code == 200


def test_discovery_names_the_fixed_issuer_and_this_sites_endpoints(
    client: TestClient, settings: Settings
) -> None:
    metadata = client.get("/card-simulator/.well-known/openid-configuration").json()
    assert metadata["issuer"] == simulator_issuer(settings)
    assert metadata["token_endpoint"] == "http://testserver/card-simulator/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    keys = client.get("/card-simulator/jwks").json()["keys"]
    assert [(k["kty"], k["alg"]) for k in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_new_user_gets_a_virtual_card_in_the_browser(client: TestClient, language: str) -> None:
    response, page = get_page(client, "/card-simulator/cards/new", language)
    assert response.status_code == 200
    banner = page.find(role="note")
    assert "simulator-banner" in banner.attrs["class"]
    if language == "en":
        assert accessibility_problems(page, language) == []
    token = page.find("input", name="csrf_token").attrs["value"]
    issued = client.post(
        "/card-simulator/cards/new", data={"csrf_token": token, "pin": "２４６８", "password": ""}
    )
    assert issued.status_code == 200
    shown = Page(issued.text)
    assert shown.find(class_="card-pin").text == "2468"
    assert len(shown.find(class_="card-password").text) >= 6
    assert len(shown.find(class_="card-number").text) == 11


def test_a_chosen_password_must_be_letters_and_digits(client: TestClient) -> None:
    _, page = get_page(client, "/card-simulator/cards/new", "en")
    token = page.find("input", name="csrf_token").attrs["value"]
    refused = client.post(
        "/card-simulator/cards/new", data={"csrf_token": token, "pin": "", "password": "abc"}
    )
    assert refused.status_code == 422
    assert "6 to 16 letters" in main_text(refused.text)


def test_getting_a_card_needs_the_form_token(client: TestClient) -> None:
    assert client.post("/card-simulator/cards/new", data={"pin": "1234"}).status_code == 400


def test_the_simulator_is_off_when_a_real_provider_is_configured(settings: Settings) -> None:
    configured = settings.model_copy(update={"card_issuer": "https://auth.example.go.jp"})
    with TestClient(create_app(configured)) as client:
        assert client.get("/card-simulator/cards/new").status_code == 404
        assert client.get("/card-simulator/jwks").status_code == 404
        _, page = get_page(client, "/sign-in", "en")
        links = {a.attrs.get("href") for a in page.find_all("a")}
        assert "/card-simulator/cards/new" not in links
        # configured without its client secret: card sign-in says it is unavailable
        assert client.get("/sign-in/card/start").status_code == 503


def production(tmp_path: Path, **changes: str) -> Settings:
    values = {
        "environment": "production",
        "data_dir": str(tmp_path),
        "secret_key": "s" * 40,
        "smtp_host": "mail.example.jp",
        "card_client_secret": "c" * 40,
        "public_url": "https://madoguchi.example.jp",
    }
    return Settings.model_validate(values | changes)


def test_production_has_no_simulator_unless_it_is_named_as_the_issuer(tmp_path: Path) -> None:
    assert not simulator_enabled(production(tmp_path))
    assert card_provider(production(tmp_path)) is None
    demo = production(tmp_path, card_issuer="https://madoguchi.example.jp/card-simulator")
    assert simulator_enabled(demo)
    real = production(tmp_path, card_issuer="https://auth.example.go.jp")
    provider = card_provider(real)
    assert provider is not None and not provider.built_in
    no_secret = production(
        tmp_path, card_issuer="https://auth.example.go.jp", card_client_secret=""
    )
    assert card_provider(no_secret) is None


def test_a_card_is_valid_until_the_fifth_birthday_after_issue() -> None:
    from madoguchi.identity.card_simulator.certificates import fifth_birthday_after

    assert fifth_birthday_after(dt.date(2024, 4, 1), dt.date(1985, 4, 1)) == dt.date(2029, 4, 1)
    assert fifth_birthday_after(dt.date(2024, 3, 31), dt.date(1985, 4, 1)) == dt.date(2028, 4, 1)
    assert fifth_birthday_after(dt.date(2023, 1, 1), dt.date(2000, 2, 29)) == dt.date(2027, 2, 28)
    assert PASSWORD.isalnum()
