"""The other side of madoguchi's OpenID provider in tests: a relying party written with authlib.

madoguchi signs and verifies with joserfc; the relying party here uses authlib's own JOSE
implementation (``authlib.jose``), so each side checks the other with code it did not share.
``authlib.jose`` is deprecated in favour of joserfc, hence the one silenced warning.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import authlib.deprecate
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.provider import authorize
from madoguchi.identity.provider.clients import ASSERTION_TYPE, do_register_client
from tests.support.databases import in_database
from tests.support.html import Page
from tests.support.people import make_person

with warnings.catch_warnings():
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, JWTClaims

T = TypeVar("T")
ISSUER = "http://madoguchi.example.jp"  # the public URL the tests set (http: cookies over http)
TOKEN_URL = ISSUER + "/oidc/token"
ALL_SCOPES = "openid name address birthdate gender"
ATTRIBUTES = {
    "name": "山田 花子",
    "address": "北海道札幌市中央区北1条西2丁目1番地",
    "birthdate": dt.date(1951, 4, 1),
    "gender": "female",
}


def card_verified_person(database_url: str, **fields: Any) -> uuid.UUID:
    verified = {**ATTRIBUTES, "attributes_verified_at": dt.datetime.now(dt.UTC), **fields}
    return make_person(database_url, **verified)


def new_key(kind: str = "EC") -> Any:
    return JsonWebKey.generate_key(kind, "P-256" if kind == "EC" else 2048, is_private=True)


def public_jwks(key: Any) -> dict[str, Any]:
    return {"keys": [{**key.as_dict(is_private=False), "kid": key.thumbprint(), "use": "sig"}]}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class RelyingParty:
    """A registered client with its private key, as another government service would be."""

    client_id: str
    key: Any
    redirect_uri: str
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @classmethod
    def register(
        cls,
        database_url: str,
        host: str = "a.example.jp",
        scopes: list[str] | None = None,
        name_ja: str = "札幌市電子申請",
        name_en: str = "Sapporo e-application",
    ) -> RelyingParty:
        key = new_key()
        redirect_uri = f"https://{host}/callback"

        async def add(session: AsyncSession) -> str:
            client = await do_register_client(
                session,
                name_ja=name_ja,
                name_en=name_en,
                redirect_uris=[redirect_uri],
                jwks=public_jwks(key),
                scopes=scopes,
            )
            return client.client_id

        return cls(in_database(database_url, add), key, redirect_uri)

    def authorize_url(
        self, scope: str = "openid name address birthdate gender", **extra: Any
    ) -> str:
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
            **extra,
        }
        return "/oidc/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})

    def assertion(self, key: Any = None, left_out: tuple[str, ...] = (), **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": TOKEN_URL,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        for name in left_out:
            del payload[name]
        signer = key or self.key
        header = {"alg": "ES256", "kid": signer.thumbprint()}
        return JsonWebToken(["ES256"]).encode(header, payload, signer).decode()

    def token_form(self, code: str, **overrides: Any) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
            **overrides,
        }
        return {k: v for k, v in form.items() if v is not None}

    def verify_id_token(self, client: TestClient, id_token: str) -> JWTClaims:
        keys = JsonWebKey.import_key_set(client.get("/oidc/jwks").json())
        claims = JsonWebToken(["RS256"]).decode(
            id_token,
            keys,
            claims_options={
                "iss": {"essential": True, "value": ISSUER},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True, "value": self.nonce},
            },
        )
        claims.validate(leeway=5)
        return claims


# --- The browser's steps ---------------------------------------------------------------------


def answer_of(response: Response) -> dict[str, str]:
    """The query the provider sent the browser back to the client with."""
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(client: TestClient, page_response: Response, decision: str = "allow") -> Response:
    assert page_response.status_code == 200, page_response.text
    page = Page(page_response.text)
    form = {
        "csrf_token": page.find("input", name="csrf_token").attrs["value"],
        "request": page.find("input", name="request").attrs["value"],
        "decision": decision,
    }
    return client.post(authorize.CONSENT_PATH, data=form, follow_redirects=False)


def code_for(client: TestClient, rp: RelyingParty, scope: str | None = None) -> str:
    """Authorize (consenting when asked) and return the code."""
    url = rp.authorize_url(scope) if scope else rp.authorize_url()
    response = client.get(url, follow_redirects=False)
    if response.status_code == 200:
        response = consent(client, response)
    answer = answer_of(response)
    assert answer["state"] == rp.state and answer["iss"] == ISSUER, answer
    return answer["code"]


def exchange(client: TestClient, rp: RelyingParty, code: str, **overrides: Any) -> Response:
    return client.post("/oidc/token", data=rp.token_form(code, **overrides))


def tokens_for(client: TestClient, rp: RelyingParty, scope: str | None = None) -> dict[str, Any]:
    response = exchange(client, rp, code_for(client, rp, scope))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def userinfo(client: TestClient, access_token: str) -> Response:
    return client.get("/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def provider_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": ISSUER})
