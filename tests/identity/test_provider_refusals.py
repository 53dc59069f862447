# ruff: noqa: F811  (the imported fixtures are named again as test parameters)
"""What madoguchi's OpenID provider refuses: at /oidc/authorize, at the consent screen, at the
token endpoint (client authentication and the code) and at userinfo."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.provider_client import (
    ISSUER,
    RelyingParty,
    answer_of,
    code_for,
    exchange,
    new_key,
    s256,
    userinfo,
)

# Fixtures shared by the provider tests; pytest finds them by name in this module.
from tests.identity.provider_fixtures import (  # noqa: F401
    person,
    rp,
    settings,
)
from tests.support.html import Page


def refusal(response_status: int, body: dict[str, str]) -> tuple[int, str]:
    return response_status, body["error"]


# --- At /oidc/authorize ----------------------------------------------------------------------


def test_an_unknown_client_gets_an_error_page_not_a_redirect(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    url = rp.authorize_url(client_id="no-such-client")
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert Page(response.text).find_all("h1")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "https://a.example.jp/callback/",  # not exactly the registered one
        "https://a.example.jp/callback?x=1",
    ],
)
def test_a_redirect_uri_not_registered_gets_an_error_page(
    client: TestClient, rp: RelyingParty, person: uuid.UUID, redirect_uri: str
) -> None:
    response = client.get(rp.authorize_url(redirect_uri=redirect_uri), follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # plain by default: refused
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "name address"}, "invalid_scope"),  # no openid
        ({"scope": "openid my_number"}, "invalid_scope"),
        ({"request": "eyJ..."}, "request_not_supported"),
    ],
)
def test_a_bad_request_is_sent_back_with_its_error_and_state(
    client: TestClient,
    rp: RelyingParty,
    person: uuid.UUID,
    extra: dict[str, str | None],
    error: str,
) -> None:
    response = client.get(rp.authorize_url(**extra), follow_redirects=False)
    assert response.headers["location"].startswith(rp.redirect_uri + "?")
    answer = answer_of(response)
    assert (answer["error"], answer["state"], answer["iss"]) == (error, rp.state, ISSUER)
    assert "code" not in answer


def test_a_repeated_parameter_is_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    response = client.get(rp.authorize_url() + "&scope=openid", follow_redirects=False)
    assert answer_of(response)["error"] == "invalid_request"


def test_plain_pkce_is_refused_even_when_the_challenge_is_the_verifier(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    url = rp.authorize_url(code_challenge=rp.verifier[:43], code_challenge_method="plain")
    assert answer_of(client.get(url, follow_redirects=False))["error"] == "invalid_request"


def test_a_scope_the_client_may_not_have_is_refused(
    client: TestClient, database_url: str, person: uuid.UUID
) -> None:
    narrow = RelyingParty.register(database_url, scopes=["openid", "name"])
    response = client.get(narrow.authorize_url("openid name address"), follow_redirects=False)
    assert answer_of(response)["error"] == "invalid_scope"


def test_a_disabled_client_gets_an_error_page(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    import datetime as dt

    from madoguchi.identity.provider.clients import do_disable_client
    from tests.identity.provider_client import in_database

    async def disable(session: AsyncSession) -> object:
        return await do_disable_client(session, rp.client_id, dt.datetime.now(dt.UTC))

    in_database(database_url, disable)
    response = client.get(rp.authorize_url(), follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers


# --- The consent screen ----------------------------------------------------------------------


def test_the_consent_form_needs_its_csrf_token(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    page = Page(client.get(rp.authorize_url(), follow_redirects=False).text)
    pending = page.find("input", name="request").attrs["value"]
    for token in (None, "forged"):
        form = {"request": pending, "decision": "allow"}
        if token:
            form["csrf_token"] = token
        response = client.post("/oidc/authorize/consent", data=form, follow_redirects=False)
        assert response.status_code == 400
        assert "location" not in response.headers


def test_a_consent_answer_works_once(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    page = Page(client.get(rp.authorize_url(), follow_redirects=False).text)
    form = {
        "csrf_token": page.find("input", name="csrf_token").attrs["value"],
        "request": page.find("input", name="request").attrs["value"],
        "decision": "allow",
    }
    first = client.post("/oidc/authorize/consent", data=form, follow_redirects=False)
    assert "code" in answer_of(first)
    second = client.post("/oidc/authorize/consent", data=form, follow_redirects=False)
    assert second.status_code == 400 and "location" not in second.headers


# --- The code at the token endpoint ----------------------------------------------------------


def test_a_wrong_verifier_is_refused_and_spends_the_code(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    code = code_for(client, rp)
    wrong = exchange(client, rp, code, code_verifier="x" * 43)
    assert refusal(wrong.status_code, wrong.json()) == (400, "invalid_grant")
    right_too_late = exchange(client, rp, code)
    assert refusal(right_too_late.status_code, right_too_late.json()) == (400, "invalid_grant")


def test_a_missing_verifier_is_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    response = exchange(client, rp, code_for(client, rp), code_verifier=None)
    assert refusal(response.status_code, response.json()) == (400, "invalid_grant")


def test_a_verifier_that_is_the_challenge_itself_is_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    response = exchange(client, rp, code_for(client, rp), code_verifier=s256(rp.verifier))
    assert response.json()["error"] == "invalid_grant"


def test_a_reused_code_is_refused_and_revokes_what_it_issued(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    code = code_for(client, rp)
    first = exchange(client, rp, code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(client, access_token).status_code == 200
    second = exchange(client, rp, code)
    assert refusal(second.status_code, second.json()) == (400, "invalid_grant")
    assert userinfo(client, access_token).status_code == 401


def test_a_different_redirect_uri_at_the_token_endpoint_is_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    response = exchange(client, rp, code_for(client, rp), redirect_uri="https://a.example.jp/x")
    assert refusal(response.status_code, response.json()) == (400, "invalid_grant")


def test_a_code_is_bound_to_its_client(
    client: TestClient, database_url: str, rp: RelyingParty, person: uuid.UUID
) -> None:
    thief = RelyingParty.register(database_url, host="b.example.jp")
    code = code_for(client, rp)
    response = exchange(
        client, thief, code, redirect_uri=rp.redirect_uri, code_verifier=rp.verifier
    )
    assert refusal(response.status_code, response.json()) == (400, "invalid_grant")


def test_an_unknown_code_and_another_grant_type_are_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    assert exchange(client, rp, "made-up").json()["error"] == "invalid_grant"
    other = exchange(client, rp, code_for(client, rp), grant_type="client_credentials")
    assert other.json()["error"] == "unsupported_grant_type"


# --- Client authentication -------------------------------------------------------------------


def test_an_assertion_signed_by_another_key_is_refused(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    stranger = new_key()
    forged = rp.assertion(key=stranger)
    response = exchange(client, rp, code_for(client, rp), client_assertion=forged)
    assert refusal(response.status_code, response.json()) == (401, "invalid_client")


@pytest.mark.parametrize(
    ("claims", "left_out"),
    [
        pytest.param({"exp": int(time.time()) - 120}, (), id="expired"),
        pytest.param({"exp": int(time.time()) + 3600}, (), id="lives-too-long"),
        pytest.param({}, ("exp",), id="no-exp"),
        pytest.param({"aud": "https://other.example.jp/token"}, (), id="wrong-aud"),
        pytest.param({"aud": ISSUER + "/oidc/userinfo"}, (), id="another-endpoint"),
        pytest.param({"iss": "someone-else"}, (), id="wrong-iss"),
        pytest.param({}, ("jti",), id="no-jti"),
    ],
)
def test_a_bad_assertion_is_refused(
    client: TestClient,
    rp: RelyingParty,
    person: uuid.UUID,
    claims: dict[str, object],
    left_out: tuple[str, ...],
) -> None:
    assertion = rp.assertion(left_out=left_out, **claims)
    response = exchange(client, rp, code_for(client, rp), client_assertion=assertion)
    assert refusal(response.status_code, response.json()) == (401, "invalid_client")


def test_the_issuer_is_an_accepted_audience(
    client: TestClient, rp: RelyingParty, person: uuid.UUID
) -> None:
    response = exchange(client, rp, code_for(client, rp), client_assertion=rp.assertion(aud=ISSUER))
    assert response.status_code == 200, response.text


def test_a_replayed_jti_is_refused(client: TestClient, rp: RelyingParty, person: uuid.UUID) -> None:
    assertion = rp.assertion(jti="once-only")
    assert exchange(client, rp, code_for(client, rp), client_assertion=assertion).status_code == 200
    again = exchange(client, rp, code_for(client, rp), client_assertion=assertion)
    assert refusal(again.status_code, again.json()) == (401, "invalid_client")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"client_assertion_type": None, "client_assertion": None}, id="none"),
        pytest.param({"client_assertion": None}, id="no-assertion"),
        pytest.param({"client_assertion": "not.a.jwt"}, id="garbage"),
        pytest.param({"client_secret": "guess"}, id="client-secret"),
        pytest.param({"client_id": "someone-else"}, id="client-id-differs"),
    ],
)
def test_only_private_key_jwt_authenticates_a_client(
    client: TestClient, rp: RelyingParty, person: uuid.UUID, overrides: dict[str, str | None]
) -> None:
    response = exchange(client, rp, code_for(client, rp), **overrides)
    assert refusal(response.status_code, response.json()) == (401, "invalid_client")


# --- userinfo --------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Basic abc", "Bearer made-up"])
def test_userinfo_needs_a_valid_access_token(client: TestClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/oidc/userinfo", headers=headers)
    assert response.status_code in (400, 401)
    assert response.headers["www-authenticate"].startswith("Bearer error=")
