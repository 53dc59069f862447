"""The relying party's checks of ID tokens, and the production path against a provider on a
real HTTP server on loopback (pytest-httpserver) that answers with tokens a test makes."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import CardProvider, CardSignInFailed, check_id_token
from madoguchi.identity.jose_keys import generate_rsa_key, public_jwks, sign_jwt
from madoguchi.web.app import create_app
from tests.support.cards import query_of

NOW = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
NONCE = "n-0S6_WzA2Mj"
KEY = generate_rsa_key()
OTHER_KEY = generate_rsa_key()
PROVIDER = CardProvider("https://auth.example.go.jp", "madoguchi", "secret", built_in=False)


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": PROVIDER.issuer,
        "sub": "card-holder-7f3a",
        "aud": PROVIDER.client_id,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 600,
        "nonce": NONCE,
        "name": "山田\u3000花子",
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def check(token: str, now: dt.datetime = NOW) -> dict[str, Any]:
    return check_id_token(token, public_jwks([KEY]), PROVIDER, NONCE, now)


def test_a_token_signed_for_us_now_is_accepted() -> None:
    assert check(sign_jwt(claims(), KEY))["sub"] == "card-holder-7f3a"


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("forged: another key", sign_jwt(claims(), OTHER_KEY)),
        ("wrong audience", sign_jwt(claims(aud="another-service"), KEY)),
        ("wrong issuer", sign_jwt(claims(iss="https://evil.example"), KEY)),
        ("another sign-in's nonce (replayed)", sign_jwt(claims(nonce="old-nonce"), KEY)),
        ("no nonce", sign_jwt(claims(nonce=None), KEY)),
        ("expired", sign_jwt(claims(exp=int(NOW.timestamp()) - 120), KEY)),
        ("issued long ago", sign_jwt(claims(iat=int(NOW.timestamp()) - 3600), KEY)),
        ("issued in the future", sign_jwt(claims(iat=int(NOW.timestamp()) + 600), KEY)),
        ("no subject", sign_jwt(claims(sub=None), KEY)),
        ("not a token", "not.a.token"),
    ],
)
def test_a_bad_token_is_refused(case: str, token: str) -> None:
    with pytest.raises(CardSignInFailed):
        check(token)


def test_an_unsigned_token_is_refused() -> None:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    unsigned = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    with pytest.raises(CardSignInFailed):
        check(unsigned)


def test_a_forged_token_naming_our_keys_id_is_refused() -> None:
    forged = sign_jwt(claims(), OTHER_KEY)
    header, payload, signature = forged.split(".")
    ours = sign_jwt(claims(), KEY).split(".")[0]  # our key's id in the header
    with pytest.raises(CardSignInFailed):
        check(f"{ours}.{payload}.{signature}")
    assert header != ours


# --- The production path: a provider over HTTP ------------------------------------------------


@pytest.fixture
def provider_server(httpserver: HTTPServer) -> HTTPServer:
    issuer = httpserver.url_for("/idp")
    httpserver.expect_request("/idp/.well-known/openid-configuration").respond_with_json(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
        }
    )
    httpserver.expect_request("/idp/jwks").respond_with_json(public_jwks([KEY]))
    return httpserver


@pytest.fixture
def external_client(settings: Settings, provider_server: HTTPServer) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={"card_issuer": provider_server.url_for("/idp"), "card_client_secret": "s3cret"}
    )
    with TestClient(create_app(configured)) as client:
        yield client


def answer_with(server: HTTPServer, **changes: Any) -> None:
    key = changes.pop("key", KEY)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    fresh = {"iss": server.url_for("/idp"), "iat": now, "exp": now + 300}
    token = sign_jwt(claims(**(fresh | changes)), key)
    server.expect_request("/idp/token", method="POST").respond_with_json(
        {"access_token": "at", "token_type": "Bearer", "id_token": token}
    )


def started(client: TestClient, server: HTTPServer) -> dict[str, str]:
    location = client.get("/sign-in/card/start", follow_redirects=False).headers["location"]
    assert location.startswith(server.url_for("/idp/authorize"))
    return query_of(location)


def test_the_production_path_signs_in_with_a_real_providers_token(
    external_client: TestClient, provider_server: HTTPServer
) -> None:
    request = started(external_client, provider_server)
    assert request["scope"] == "openid name address birthdate gender"
    assert request["code_challenge_method"] == "S256"
    answer_with(provider_server, nonce=request["nonce"])
    callback = f"/sign-in/card/callback?code=c0de&state={request['state']}"
    response = external_client.get(callback, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/me")
    sent, _ = provider_server.log[-2]  # the token request (the JWKS came after it)
    form = parse_qs(sent.get_data(as_text=True))
    assert form["code_verifier"][0] and form["code"] == ["c0de"]
    assert sent.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "changes",
    [{"key": OTHER_KEY}, {"aud": "another-service"}, {"exp": 1_000_000_000}],
    ids=["forged", "wrong audience", "expired"],
)
def test_the_production_path_refuses_a_bad_token(
    external_client: TestClient, provider_server: HTTPServer, changes: dict[str, Any]
) -> None:
    request = started(external_client, provider_server)
    answer_with(provider_server, nonce=request["nonce"], **changes)
    external_client.cookies.set("lang", "en")
    callback = f"/sign-in/card/callback?code=c0de&state={request['state']}"
    response = external_client.get(callback, follow_redirects=False)
    assert response.status_code == 400
    assert "could not be verified, so you were not signed in" in response.text
