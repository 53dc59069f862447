"""Verification for anyone: the /verify pages and the API, with no account."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.reference_numbers import new_reference
from madoguchi.core.settings import Settings
from madoguchi.signatures.sealing import Sealed, seal_document
from tests.signatures.test_sealing import chiyoda, simple_pdf
from tests.support.authenticator import page_token
from tests.support.databases import in_database

ENGLISH = {"Accept-Language": "en"}  # the API's; pages follow the lang cookie


@pytest.fixture
def client(client: TestClient) -> TestClient:
    client.cookies.set("lang", "en")
    return client


@pytest.fixture
def sealed(database_url: str, settings: Settings) -> Sealed:
    """A document sealed and committed before the test's requests."""

    async def seal(session: AsyncSession) -> Sealed:
        body = await chiyoda(session)
        return await seal_document(session, settings, body, simple_pdf(), kind="t", title="通知書")

    return in_database(database_url, seal)


def _altered(pdf: bytes) -> bytes:
    altered = bytearray(pdf)
    altered[pdf.index(b"(anonymous)") + 1] ^= 0x01
    return bytes(altered)


def _upload(client: TestClient, path: str, pdf: bytes, name: str = "doc.pdf") -> str:
    token = page_token(client, "/verify")
    response = client.post(
        path,
        data={"csrf_token": token},
        files={"file": (name, pdf, "application/pdf")},
        headers=ENGLISH,
    )
    assert response.status_code == 200, response.text
    return response.text


def test_an_uploaded_sealed_pdf_is_valid_and_one_changed_byte_is_not(
    client: TestClient, sealed: Sealed
) -> None:
    page = _upload(client, "/verify", sealed.pdf)
    assert "signature or seal checks out." in page
    assert "千代田区" in page
    assert "by a trusted timestamp" in page
    page = _upload(client, "/verify", _altered(sealed.pdf))
    assert "Not valid" in page
    assert "The document was altered after it was signed" in page


def test_the_reference_page_shows_the_seal_not_the_content(
    client: TestClient, sealed: Sealed
) -> None:
    reference = sealed.document.reference
    page = client.get(f"/verify/{reference.lower()}", headers=ENGLISH)
    assert page.status_code == 200
    assert "通知書" in page.text and sealed.document.file_sha256 in page.text
    assert "Valid: the document" in page.text
    same = _upload(client, f"/verify/{reference}", sealed.pdf)
    assert "Yes: your file is exactly the document" in same
    other = _upload(client, f"/verify/{reference}", _altered(sealed.pdf))
    assert "No: your file is not the document" in other


def test_a_reference_typed_on_the_form_leads_to_its_page(
    client: TestClient, sealed: Sealed
) -> None:
    token = page_token(client, "/verify")
    typed = sealed.document.reference.replace("-", " ").lower()
    response = client.post(
        "/verify", data={"csrf_token": token, "reference": typed}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/verify/{sealed.document.reference}"


def test_bad_input_gets_a_clear_error(client: TestClient) -> None:
    token = page_token(client, "/verify")
    no_file = client.post("/verify", data={"csrf_token": token}, headers=ENGLISH)
    assert no_file.status_code == 422
    assert "Choose a PDF file to check." in no_file.text
    wrong = client.post("/verify", data={"csrf_token": token, "reference": "7KQ2"}, headers=ENGLISH)
    assert wrong.status_code == 422
    assert "is not a reference number" in wrong.text
    assert client.get(f"/verify/{new_reference()}").status_code == 404
    not_pdf = _upload(client, "/verify", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "picture.png")
    assert "The file is not a PDF." in not_pdf
    forged = client.post("/verify", data={"csrf_token": "forged"}, files={"file": ("a.pdf", b"x")})
    assert forged.status_code == 400  # CsrfFailure
    assert "did not come from this site" in forged.text


def test_the_api_answers_the_same_verdict(client: TestClient, sealed: Sealed) -> None:
    response = client.post(
        "/api/v1/verify",
        content=sealed.pdf,
        headers={"Content-Type": "application/pdf", **ENGLISH},
    )
    assert response.status_code == 200
    verdict = response.json()
    assert verdict["valid"] is True
    (signature,) = verdict["signatures"]
    assert signature["signer"] == "千代田区"
    assert signature["signed_at"] is not None
    by_reference = client.get(f"/api/v1/verify/{sealed.document.reference}").json()
    assert by_reference["document"]["sha256"] == by_reference["sha256"]
    assert by_reference["valid"] is True
    altered = client.post("/api/v1/verify", content=_altered(sealed.pdf), headers=ENGLISH)
    assert altered.json()["valid"] is False
    assert altered.json()["signatures"][0]["intact"] is False


def test_the_api_refuses_an_empty_body_and_an_unknown_reference(client: TestClient) -> None:
    empty = client.post("/api/v1/verify", content=b"", headers=ENGLISH)
    assert empty.status_code == 422
    assert empty.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/verify/{new_reference()}").status_code == 404
    assert client.get("/api/v1/verify/nonsense").status_code == 422


def test_checks_are_limited_per_address(
    client: TestClient, sealed: Sealed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.core.attempts import Limit
    from madoguchi.signatures import limits

    monkeypatch.setattr(limits, "CHECKS", Limit("verify-upload", 2, limits.CHECKS.window))
    for _ in range(2):
        assert client.post("/api/v1/verify", content=sealed.pdf).status_code == 200
    assert client.post("/api/v1/verify", content=sealed.pdf).status_code == 429
    # a reference's page checks the kept copy: it counts too
    assert client.get(f"/verify/{sealed.document.reference}").status_code == 429
