"""Virtual cards and the card sign-in journey for tests: issue a card on a test's database, and
go through the simulator's pages as a browser does (TestClient, in process)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_simulator.cards import (
    IssuedCard,
    certificate_serials,
    find_card,
    issue_card,
)
from madoguchi.identity.card_simulator.certificates import Holder
from madoguchi.identity.card_simulator.residents import synthetic_resident
from madoguchi.signatures import service as signatures
from madoguchi.signatures.service import Reason
from tests.support.databases import in_database
from tests.support.html import Page

T = TypeVar("T")
PIN = "1234"
PASSWORD = "HANAKO2024"
HANAKO = Holder(
    name="山田\u3000花子",
    address="北海道札幌市中央区北一条西2-1-1",
    birthdate=dt.date(1985, 4, 1),
    sex="2",
)


def issue(
    database_url: str,
    settings: Settings,
    holder: Holder | None = None,
    today: dt.date | None = None,
    password: str = PASSWORD,
) -> IssuedCard:
    """A card on the test's database, its certificates from the residents' authority."""

    async def work(session: AsyncSession) -> IssuedCard:
        return await issue_card(
            session, settings, holder or synthetic_resident(), pin=PIN, password=password,
            today=today,
        )  # fmt: skip

    return in_database(database_url, work)


def revoke(database_url: str, card_number: str, when: dt.datetime | None = None) -> None:
    """Revoke both certificates of a card, as ``madoguchi cards revoke`` does."""

    async def work(session: AsyncSession) -> None:
        card = await find_card(session, card_number)
        for serial in certificate_serials(card):
            await signatures.revoke_certificate(session, serial, Reason.AFFILIATION_CHANGED, when)

    in_database(database_url, work)


def start(client: TestClient, next_path: str = "/me") -> str:
    """Press "sign in with your card": the simulator's authorization URL it leads to."""
    response = client.get(f"/sign-in/card/start?next={next_path}", follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def reader(client: TestClient, authorize_url: str) -> Page:
    response = client.get(authorize_url)
    assert response.status_code == 200, response.text
    return Page(response.text)


def fields_of(page: Page) -> dict[str, str]:
    """The hidden fields of the reader's form (the request and the form token)."""
    return {
        each.attrs["name"]: each.attrs.get("value", "")
        for each in page.find_all("input")
        if each.attrs.get("type") == "hidden"
    }


def read_card(
    client: TestClient,
    authorize_url: str,
    card_number: str,
    pin: str = PIN,
    password: str | None = PASSWORD,
    action: str = "sign_in",
) -> Response:
    """Fill in the card reader's form and press a button (redirects not followed)."""
    form = fields_of(reader(client, authorize_url))
    form |= {"card_number": card_number, "pin": pin, "action": action}
    if password is not None:
        form["password"] = password
    return client.post("/card-simulator/authorize", data=form, follow_redirects=False)


def sign_in_with(client: TestClient, card: IssuedCard, next_path: str = "/me") -> Response:
    """The whole journey, following every redirect: where it ends."""
    answer = read_card(client, start(client, next_path), card.card_number)
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class OwnRequest:
    """An authorization request made by the test itself, to reach the token endpoint with a
    verifier it knows."""

    verifier: str
    params: dict[str, str]

    @classmethod
    def make(cls, client_id: str = "madoguchi", scope: str = "openid") -> OwnRequest:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "http://testserver/sign-in/card/callback",
            "scope": scope,
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return cls(verifier, params)

    def url(self) -> str:
        from urllib.parse import urlencode

        return f"/card-simulator/authorize?{urlencode(self.params)}"
