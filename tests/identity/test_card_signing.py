"""Signing with a virtual card at the simulator, as madoguchi asks for it (``card_signing``):
the page, the password lock, the one-time code, and a signature anyone can check."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import card_provider
from madoguchi.identity.card_signing import WIRE_FORMAT, signing_url
from madoguchi.identity.card_simulator.cards import find_card
from madoguchi.identity.card_simulator.chip import MAX_TRIES
from madoguchi.signatures import service as signatures
from madoguchi.signatures.detached import DetachedVerdict, verify_detached
from madoguchi.signatures.service import CaName
from tests.support.cards import HANAKO, PASSWORD, fields_of, in_database, issue, query_of, revoke
from tests.support.html import Page, accessibility_problems, get_page

PAYLOAD = b'{"answers":{"amount":"500000"},"format":"test"}'
PURPOSE = "Application for the small business subsidy"
WRONG = "WRONG123"


def ask(settings: Settings, payload: bytes = PAYLOAD, state: str = "st-1") -> str:
    """The simulator's signing page, as madoguchi sends a browser to it (path and query)."""
    provider = card_provider(settings)
    assert provider is not None
    url = signing_url(provider, "http://testserver", payload=payload, state=state, purpose=PURPOSE)
    return url.removeprefix("http://testserver")


def sign_at(
    client: TestClient, url: str, card_number: str, password: str = PASSWORD, action: str = "sign"
) -> Response:
    response = client.get(url)
    assert response.status_code == 200, response.text
    form = fields_of(Page(response.text))
    form |= {"card_number": card_number, "password": password, "action": action}
    return client.post("/card-simulator/sign", data=form, follow_redirects=False)


def collect(client: TestClient, settings: Settings, code: str) -> Response:
    return client.post(
        "/card-simulator/sign/token",
        data={"code": code, "redirect_uri": "http://testserver/signing/card/callback"},
        auth=(settings.card_client_id, settings.resolved_card_client_secret()),
    )


def signed(client: TestClient, settings: Settings, card_number: str) -> bytes:
    answer = sign_at(client, ask(settings), card_number)
    assert answer.status_code == 303, answer.text
    back = query_of(answer.headers["location"])
    assert back["state"] == "st-1"
    body = collect(client, settings, back["code"]).json()
    assert body["format"] == WIRE_FORMAT
    return base64.b64decode(body["signature"])


def verdict(database_url: str, settings: Settings, der: bytes) -> DetachedVerdict:
    async def work(session: AsyncSession) -> DetachedVerdict:
        roots = await signatures.trust_roots(session, settings)
        crls = [
            await signatures.crl_der(session, settings, name)
            for name in (CaName.RESIDENTS, CaName.ROOT)
        ]
        return await verify_detached(PAYLOAD, der, trust_roots=roots, crls=crls)

    return in_database(database_url, work)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_page_says_who_asks_what_is_signed_and_its_fingerprint(
    client: TestClient, settings: Settings, language: str
) -> None:
    response, page = get_page(client, ask(settings), language)
    assert response.status_code == 200
    text = page.find("main").text
    assert PURPOSE in text and "madoguchi" in text
    fingerprint = page.find(class_="fingerprint").text
    assert len(fingerprint.split()) == 4
    if language == "en":
        assert accessibility_problems(page, language) == []


def test_the_card_signs_a_detached_cades_signature_over_the_digest(
    client: TestClient, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    card = issue(database_url, settings, HANAKO)
    der = signed(client, settings, card.card_number)
    checked = verdict(database_url, settings, der)
    assert checked.valid, checked.reason
    assert checked.signer is not None
    stored = in_database(database_url, lambda session: find_card(session, card.card_number))
    assert checked.signer.public_bytes(Encoding.PEM).decode() == stored.signature_certificate_pem
    assert checked.signed_at is not None
    assert abs(checked.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert_openssl_verifies(database_url, settings, der, tmp_path)


def assert_openssl_verifies(
    database_url: str, settings: Settings, der: bytes, tmp_path: Path, payload: bytes = PAYLOAD
) -> None:
    """An independent tool agrees: ``openssl cms -verify`` against the payload and the root."""
    roots = in_database(database_url, lambda session: signatures.trust_roots(session, settings))
    (tmp_path / "root.pem").write_bytes(roots[0].public_bytes(Encoding.PEM))
    (tmp_path / "signature.der").write_bytes(der)
    (tmp_path / "payload.json").write_bytes(payload)
    verified = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", str(tmp_path / "signature.der"),
            "-content", str(tmp_path / "payload.json"),
            "-CAfile", str(tmp_path / "root.pem"),
            "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr


def test_a_changed_document_does_not_verify(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    der = signed(client, settings, card.card_number)

    async def work(session: AsyncSession) -> DetachedVerdict:
        roots = await signatures.trust_roots(session, settings)
        crls = [await signatures.crl_der(session, settings, CaName.RESIDENTS)]
        return await verify_detached(PAYLOAD + b" ", der, trust_roots=roots, crls=crls)

    assert not in_database(database_url, work).valid


def test_a_code_works_once(client: TestClient, database_url: str, settings: Settings) -> None:
    card = issue(database_url, settings)
    answer = sign_at(client, ask(settings), card.card_number)
    code = query_of(answer.headers["location"])["code"]
    assert collect(client, settings, code).status_code == 200
    replayed = collect(client, settings, code)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


def test_the_signature_goes_only_to_the_client_with_its_secret(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    answer = sign_at(client, ask(settings), card.card_number)
    code = query_of(answer.headers["location"])["code"]
    refused = client.post(
        "/card-simulator/sign/token",
        data={"code": code, "redirect_uri": "http://testserver/signing/card/callback"},
        auth=(settings.card_client_id, "not-the-secret"),
    )
    assert refused.status_code == 401
    assert "signature" not in refused.json()


def test_a_wrong_password_says_how_many_tries_are_left_and_the_fifth_locks(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    client.cookies.set("lang", "en")
    for left in range(MAX_TRIES - 1, 0, -1):
        answer = sign_at(client, ask(settings), card.card_number, password=WRONG)
        assert answer.status_code == 422
        assert f"Tries left before it locks: {left}." in answer.text
    locked = sign_at(client, ask(settings), card.card_number, password=WRONG)
    assert locked.status_code == 403
    assert "signature password is locked" in locked.text
    again = sign_at(client, ask(settings), card.card_number)  # the right one, too late
    assert again.status_code == 403
    back = client.post(
        "/card-simulator/sign",
        data=fields_of(Page(again.text)) | {"action": "card_locked"},
        follow_redirects=False,
    )
    assert query_of(back.headers["location"])["error"] == "card_locked"


def test_a_revoked_card_cannot_sign(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    revoke(database_url, card.card_number)
    client.cookies.set("lang", "en")
    answer = sign_at(client, ask(settings), card.card_number)
    assert answer.status_code == 403
    assert "certificate has been revoked" in answer.text
    assert "location" not in answer.headers


def test_cancelling_goes_back_with_access_denied(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    answer = sign_at(client, ask(settings), card.card_number, action="cancel")
    assert answer.status_code == 303
    assert query_of(answer.headers["location"]) == {"error": "access_denied", "state": "st-1"}


def test_an_unknown_client_or_redirect_is_never_redirected_to(
    client: TestClient, settings: Settings
) -> None:
    url = ask(settings)
    for wrong in ("client_id=madoguchi", "redirect_uri=http%3A%2F%2Ftestserver"):
        changed = url.replace(wrong, wrong.split("=")[0] + "=elsewhere")
        response = client.get(changed, follow_redirects=False)
        assert response.status_code == 400
        assert "location" not in response.headers


def test_a_digest_that_is_not_sha256_goes_back_with_an_error(
    client: TestClient, settings: Settings
) -> None:
    url = ask(settings)
    digest = query_of(url)["digest"]
    response = client.get(url.replace(digest, digest[:20]), follow_redirects=False)
    assert response.status_code == 303
    assert query_of(response.headers["location"])["error"] == "invalid_request"


def test_signing_needs_the_form_token(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    card = issue(database_url, settings)
    form = fields_of(Page(client.get(ask(settings)).text))
    form |= {"card_number": card.card_number, "password": PASSWORD, "action": "sign"}
    del form["csrf_token"]
    answer = client.post("/card-simulator/sign", data=form, follow_redirects=False)
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_the_chain_in_the_signature_is_the_residents_authority_and_the_root(
    client: TestClient, database_url: str, settings: Settings
) -> None:
    from asn1crypto import cms  # type: ignore[import-untyped]

    card = issue(database_url, settings)
    der = signed(client, settings, card.card_number)
    carried = cms.ContentInfo.load(der)["content"]["certificates"]
    subjects = {
        x509.load_der_x509_certificate(each.chosen.dump()).subject.rfc4514_string()
        for each in carried
    }
    assert any("Residents Signature CA" in subject for subject in subjects)
    assert any("Root CA" in subject for subject in subjects)
