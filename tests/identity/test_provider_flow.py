# ruff: noqa: F811  (the imported fixtures are named again as test parameters)
"""madoguchi as an OpenID provider: the whole flow with a relying party built on authlib."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.identity.models import Assurance, AuditEntry, SignInMethod
from madoguchi.identity.provider.claims import ACR_HIGH, ACR_LOW
from tests.identity.provider_client import (
    ISSUER,
    RelyingParty,
    answer_of,
    card_verified_person,
    code_for,
    consent,
    in_database,
    tokens_for,
    userinfo,
)

# Fixtures shared by the provider tests; pytest finds them by name in this module.
from tests.identity.provider_fixtures import (  # noqa: F401
    person,
    rp,
    settings,
)
from tests.support.html import Page, accessibility_problems, get_page
from tests.support.people import make_person, signed_in

LANGUAGES = ["ja", "en"]


def audit_entries(database_url: str, prefix: str = "oidc.") -> list[AuditEntry]:
    async def read(session: AsyncSession) -> list[AuditEntry]:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.at)
        )
        return list(rows)

    return in_database(database_url, read)


def test_discovery_describes_only_what_is_supported(client: TestClient) -> None:
    document = client.get("/.well-known/openid-configuration").json()
    assert document["issuer"] == ISSUER
    assert document["token_endpoint"] == ISSUER + "/oidc/token"
    assert document["jwks_uri"] == ISSUER + "/oidc/jwks"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert document["subject_types_supported"] == ["pairwise"]
    assert set(document["acr_values_supported"]) == {ACR_LOW, ACR_HIGH}


def test_the_jwks_publishes_the_signing_key_with_its_kid(client: TestClient) -> None:
    keys = client.get("/oidc/jwks").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["kid"]
    assert "d" not in keys[0] and "p" not in keys[0]  # the public half only
    assert client.get("/oidc/jwks").json()["keys"] == keys  # made once, then kept


def test_the_whole_flow(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    page_response = client.get(rp.authorize_url(), follow_redirects=False)
    assert page_response.status_code == 200
    page = Page(page_response.text)
    assert "札幌市電子申請" in page.h1
    shown = page.main.text
    for value in ("山田 花子", "北海道札幌市中央区北1条西2丁目1番地", "1951年4月1日"):
        assert value in shown
    answer = answer_of(consent(client, page_response))
    assert answer["state"] == rp.state and answer["iss"] == ISSUER
    response = client.post("/oidc/token", data=rp.token_form(answer["code"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"].split()[0] == "openid"
    claims = rp.verify_id_token(client, body["id_token"])
    assert claims["acr"] == ACR_HIGH
    assert claims["auth_time"] <= claims["iat"] < claims["exp"] <= claims["iat"] + 300
    assert claims["name"] == "山田 花子"
    assert claims["address"] == {"formatted": "北海道札幌市中央区北1条西2丁目1番地"}
    assert (claims["birthdate"], claims["gender"]) == ("1951-04-01", "female")
    info = userinfo(client, body["access_token"])
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"] and info.json()["name"] == "山田 花子"
    actions = [(e.action, e.actor, e.subject) for e in audit_entries(database_url)]
    assert actions == [
        ("oidc.consent_granted", f"person:{person}", f"client:{rp.client_id}"),
        ("oidc.token_issued", f"client:{rp.client_id}", f"person:{person}"),
        ("oidc.userinfo_read", f"client:{rp.client_id}", f"person:{person}"),
    ]
    issued = audit_entries(database_url)[1].details
    assert issued["claims"] == ["address", "birthdate", "gender", "name"]


def test_the_id_token_is_bound_to_its_access_token(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    from madoguchi.identity.provider.tokens import half_hash

    body = tokens_for(client, rp)
    assert rp.verify_id_token(client, body["id_token"])["at_hash"] == half_hash(
        body["access_token"]
    )


def test_someone_not_signed_in_is_sent_to_sign_in_and_back(
    client: TestClient, rp: RelyingParty
) -> None:
    response = client.get(rp.authorize_url(), follow_redirects=False)
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    assert target.path == "/sign-in"
    back = parse_qs(target.query)["next"][0]
    assert back.startswith("/oidc/authorize?")
    assert parse_qs(urlsplit(back).query)["state"] == [rp.state]


def test_prompt_none_without_a_session_answers_login_required(
    client: TestClient, rp: RelyingParty
) -> None:
    response = client.get(rp.authorize_url(prompt="none"), follow_redirects=False)
    assert answer_of(response)["error"] == "login_required"


def test_a_stored_consent_is_reused_and_asked_again_for_more(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    code_for(client, rp, "openid name")
    again = client.get(rp.authorize_url("openid name"), follow_redirects=False)
    assert "code" in answer_of(again)  # no screen this time
    more = client.get(rp.authorize_url("openid name address"), follow_redirects=False)
    assert more.status_code == 200
    assert "北海道札幌市中央区北1条西2丁目1番地" in Page(more.text).main.text


def test_denying_sends_access_denied_and_records_no_consent(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    page_response = client.get(rp.authorize_url(), follow_redirects=False)
    answer = answer_of(consent(client, page_response, decision="deny"))
    assert answer["error"] == "access_denied" and answer["state"] == rp.state
    assert "code" not in answer
    assert audit_entries(database_url) == []
    asked_again = client.get(rp.authorize_url(), follow_redirects=False)
    assert asked_again.status_code == 200


def test_claims_are_released_only_as_consented(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    body = tokens_for(client, rp, "openid name")
    claims = rp.verify_id_token(client, body["id_token"])
    assert claims["name"] == "山田 花子"
    for withheld in ("address", "birthdate", "gender"):
        assert withheld not in claims
    assert set(userinfo(client, body["access_token"]).json()) == {"sub", "name"}


def test_attributes_the_card_did_not_prove_are_not_released(
    client: TestClient, database_url: str, rp: RelyingParty
) -> None:
    person_id = make_person(database_url, name="未確認 太郎")  # no card-verified attributes
    signed_in(client, database_url, person_id, SignInMethod.EMAIL, Assurance.LOW)
    page_response = client.get(rp.authorize_url("openid name"), follow_redirects=False)
    assert "未確認 太郎" not in Page(page_response.text).main.text
    answer = answer_of(consent(client, page_response))
    body = client.post("/oidc/token", data=rp.token_form(answer["code"])).json()
    claims = rp.verify_id_token(client, body["id_token"])
    assert "name" not in claims
    assert claims["acr"] == ACR_LOW  # an email sign-in


def test_pairwise_subjects_differ_between_sectors_and_stay_the_same(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    other = RelyingParty.register(database_url, host="b.example.jp")
    first = rp.verify_id_token(client, tokens_for(client, rp)["id_token"])["sub"]
    again = rp.verify_id_token(client, tokens_for(client, rp)["id_token"])["sub"]
    elsewhere = other.verify_id_token(client, tokens_for(client, other)["id_token"])["sub"]
    assert first == again
    assert elsewhere != first
    assert str(person) not in (first, elsewhere)


def test_a_high_level_asked_for_makes_an_email_session_step_up(
    client: TestClient, database_url: str, rp: RelyingParty
) -> None:
    person_id = card_verified_person(database_url)
    signed_in(client, database_url, person_id, SignInMethod.EMAIL, Assurance.LOW)
    response, page = get_page(client, rp.authorize_url(acr_values=ACR_HIGH), "en")
    assert response.status_code == 200
    link = page.find("a", class_="button").attrs["href"]
    assert link.startswith("/sign-in/card/start?next=")
    back = parse_qs(urlsplit(link).query)["next"][0]
    assert parse_qs(urlsplit(back).query)["acr_values"] == [ACR_HIGH]
    assert accessibility_problems(page, "en") == []


def test_a_card_session_meets_the_high_level(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    code = code_for(client, rp, None)
    assert code
    again = client.get(rp.authorize_url(acr_values=ACR_HIGH), follow_redirects=False)
    assert "code" in answer_of(again)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_consent_page_is_accessible(
    client: TestClient, rp: RelyingParty, person: uuid.UUID, language: str
) -> None:
    response, page = get_page(client, rp.authorize_url(), language)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert accessibility_problems(page, language) == []
    buttons: list[Any] = page.find_all("button", name="decision")
    assert [b.attrs["value"] for b in buttons] == ["allow", "deny"]
    expected = "札幌市電子申請" if language == "ja" else "Sapporo e-application"
    assert expected in page.h1


def test_withdrawing_consent_revokes_tokens_and_is_audited(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    import datetime as dt

    from madoguchi.identity.provider.service import do_withdraw_consent

    body = tokens_for(client, rp)

    async def withdraw(session: AsyncSession) -> bool:
        return await do_withdraw_consent(session, person, rp.client_id, dt.datetime.now(dt.UTC))

    assert in_database(database_url, withdraw) is True
    assert userinfo(client, body["access_token"]).status_code == 401
    assert audit_entries(database_url)[-1].action == "oidc.consent_withdrawn"
    assert client.get(rp.authorize_url(), follow_redirects=False).status_code == 200
