"""Signing the small business subsidy with a virtual My Number card: the journey from check your
answers through the card's signing page to the receipt, and every way a signature is refused
with the draft kept."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_simulator.certificates import Holder
from madoguchi.procedures.definition import Definition
from madoguchi.signatures import service as signatures
from madoguchi.submissions.models import Submission
from madoguchi.submissions.signing import payload_of
from tests.submissions.journey_support import form_of, send
from tests.support.cards import (
    HANAKO,
    PASSWORD,
    fields_of,
    in_database,
    issue,
    revoke,
    sign_in_with,
)
from tests.support.html import Page, get_page
from tests.support.samples import PDF

SUBSIDY = "/bodies/meti/procedures/small-business-subsidy"
ANSWERS: list[dict[str, str]] = [
    {"corporate_number": "5835678256246", "employees": "12"},
    {"equipment_cost": "1200000", "service_cost": "300000"},
    {
        "bank_account.bank": "0001",
        "bank_account.branch": "001",
        "bank_account.type": "ordinary",
        "bank_account.number": "1234567",
        "bank_account.holder": "カ）マドグチ",
    },
]
QUOTE = [("quotes.upload", ("見積書.pdf", PDF, "application/pdf"))]
TARO = Holder("佐藤\u3000太郎", "東京都千代田区千代田1-1", HANAKO.birthdate, "1")


def to_check(client: TestClient) -> Page:
    _response, page = get_page(client, SUBSIDY, "en")
    response, page = send(client, page, action_ends="/drafts")
    for typed in ANSWERS:
        files = QUOTE if "equipment_cost" in typed else None
        response, page = send(client, page, typed, files=files)
        assert response.status_code == 200, page.main.text
    assert str(response.url).endswith("/check"), page.main.text
    return page


def to_signing(client: TestClient) -> tuple[Page, str]:
    """Check your answers, press submit: the page that explains signing, and the draft."""
    check = to_check(client)
    response, page = send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    assert response.status_code == 200, response.text
    assert "registered seal" in page.main.text
    return page, str(response.url).removesuffix("/submit")


def to_card_reader(client: TestClient, page: Page) -> str:
    form = form_of(page, "/sign")
    answer = client.post(form.action, data=form.fields, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert "/card-simulator/sign?" in answer.headers["location"]
    return answer.headers["location"]


def sign(
    client: TestClient, reader_url: str, card_number: str, password: str = PASSWORD
) -> Response:
    reader = client.get(reader_url)
    form = fields_of(Page(reader.text)) | {
        "card_number": card_number,
        "password": password,
        "action": "sign",
    }
    return client.post("/card-simulator/sign", data=form, follow_redirects=False)


def come_back(client: TestClient, answer: Response) -> Response:
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])


def submissions(database_url: str) -> list[Submission]:
    async def work(session: AsyncSession) -> list[Submission]:
        return list((await session.scalars(select(Submission))).all())

    return in_database(database_url, work)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """English by default: the card reader sends the browser back to the site's public address,
    for which the test client keeps cookies (the lang cookie too) apart from testserver's."""
    return settings.model_copy(update={"default_language": "en"})


@pytest.fixture
def hanako(client: TestClient, database_url: str, settings: Settings) -> str:
    """Hanako signed in with her virtual card; her card number."""
    card = issue(database_url, settings, HANAKO)
    assert sign_in_with(client, card).status_code == 200
    client.cookies.set("lang", "en")
    return card.card_number


def test_a_signed_application_is_received_and_its_signature_kept(
    client: TestClient, database_url: str, settings: Settings, hanako: str, tmp_path: Path
) -> None:
    page, _draft = to_signing(client)
    receipt = come_back(client, sign(client, to_card_reader(client, page), hanako))
    assert receipt.status_code == 200, receipt.text
    shown = Page(receipt.text).find(class_="resident-signature").text
    assert "Signed with the My Number card by 山田" in shown and "花子" in shown
    (stored,) = submissions(database_url)
    assert stored.signature_format == "cades-bes-detached"
    assert stored.signature is not None and stored.signed_at is not None
    serial = stored.signature_serial
    assert serial is not None
    assert in_database(database_url, lambda s: signatures.certificate_status(s, serial)) is None
    payload = _payload(stored)
    assert_openssl_verifies(database_url, settings, stored.signature, payload, tmp_path)
    pdf = client.get(f"/bodies/meti/submissions/{stored.id}/receipt.pdf").content
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "receipt.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "マイナンバーカードによる署名" in text and "山田" in text  # on the sealed receipt too


def _payload(submission: Submission) -> bytes:
    return payload_of("meti", submission.procedure_id, submission.version, submission.answers)


def assert_openssl_verifies(
    database_url: str, settings: Settings, der: bytes, payload: bytes, tmp_path: Path
) -> None:
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


def assert_refused_and_kept(database_url: str, back: Response, says: str) -> None:
    assert back.status_code == 422, back.text
    page = Page(back.text)
    assert says in page.main.text, page.main.text
    assert page.find("form", class_="submit-form")  # still check your answers: sign again
    assert submissions(database_url) == []


def test_a_wrong_password_shows_the_tries_left(
    client: TestClient, database_url: str, hanako: str
) -> None:
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), hanako, password="WRONG123")
    assert answer.status_code == 422
    assert "Tries left before it locks: 4." in answer.text
    assert submissions(database_url) == []


def test_a_locked_password_comes_back_with_the_answers_kept(
    client: TestClient, database_url: str, hanako: str
) -> None:
    page, _draft = to_signing(client)
    reader = to_card_reader(client, page)
    for _ in range(5):
        answer = sign(client, reader, hanako, password="WRONG123")
    assert answer.status_code == 403
    form = fields_of(Page(answer.text)) | {"action": "card_locked"}
    returned = client.post("/card-simulator/sign", data=form, follow_redirects=False)
    assert_refused_and_kept(database_url, come_back(client, returned), "password is locked")


def test_cancelling_at_the_card_reader_loses_nothing(
    client: TestClient, database_url: str, hanako: str
) -> None:
    page, _draft = to_signing(client)
    reader = client.get(to_card_reader(client, page))
    form = fields_of(Page(reader.text)) | {"action": "cancel"}
    returned = client.post("/card-simulator/sign", data=form, follow_redirects=False)
    assert_refused_and_kept(database_url, come_back(client, returned), "You did not sign")


def test_a_revoked_card_cannot_sign(client: TestClient, database_url: str, hanako: str) -> None:
    revoke(database_url, hanako)
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), hanako)
    assert answer.status_code == 403
    assert "revoked" in answer.text
    assert submissions(database_url) == []


def test_a_card_revoked_between_signing_and_receipt_is_refused_with_the_reason(
    client: TestClient, database_url: str, hanako: str
) -> None:
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), hanako)
    revoke(database_url, hanako)
    assert_refused_and_kept(database_url, come_back(client, answer), "revoked")


def test_another_persons_card_is_refused(
    client: TestClient, database_url: str, settings: Settings, hanako: str
) -> None:
    other = issue(database_url, settings, TARO)
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), other.card_number)
    assert_refused_and_kept(database_url, come_back(client, answer), "not the card of the person")


def test_a_replayed_callback_is_refused(client: TestClient, database_url: str, hanako: str) -> None:
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), hanako)
    assert come_back(client, answer).status_code == 200  # the receipt
    replayed = client.get(answer.headers["location"])
    assert replayed.status_code == 404
    assert "expired or was already used" in replayed.text
    assert len(submissions(database_url)) == 1


def test_answers_changed_after_the_signing_request_are_refused(
    client: TestClient, database_url: str, hanako: str
) -> None:
    page, draft = to_signing(client)
    reader = to_card_reader(client, page)
    _response, costs = get_page(client, f"{draft}/pages/costs?from=check", "en")
    send(client, costs, {"equipment_cost": "9900000"})
    answer = sign(client, reader, hanako)
    assert_refused_and_kept(database_url, come_back(client, answer), "answers changed")


def test_a_tampered_signature_is_refused(
    client: TestClient, database_url: str, hanako: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.identity.card_simulator import sign_pages

    real = sign_pages.sign_digest

    async def tampered(*args: Any) -> bytes:
        der = bytearray(await real(*args))
        der[-10] ^= 0xFF  # a byte of the RSA signature value
        return bytes(der)

    monkeypatch.setattr(sign_pages, "sign_digest", tampered)
    page, _draft = to_signing(client)
    answer = sign(client, to_card_reader(client, page), hanako)
    assert_refused_and_kept(database_url, come_back(client, answer), "could not be accepted")


def test_signing_needs_a_card_sign_in(client: TestClient, database_url: str) -> None:
    from madoguchi.identity.models import Assurance, SignInMethod
    from tests.support.people import make_person, signed_in

    person = make_person(database_url)
    signed_in(client, database_url, person, SignInMethod.EMAIL, Assurance.LOW)
    _response, page = get_page(client, SUBSIDY, "en")
    _response, page = send(client, page, action_ends="/drafts")
    assert "/sign-in?" in str(page.find("main"))


def test_a_signature_needs_high_assurance_in_the_definition() -> None:
    import yaml
    from pydantic import ValidationError

    from madoguchi.procedures.examples import __file__ as examples

    document = yaml.safe_load((Path(examples).parent / "small-business-subsidy.yaml").read_text())
    assert Definition.model_validate(document).signature.value == "required"
    with pytest.raises(ValidationError, match="signature: required needs assurance: high"):
        Definition.model_validate(document | {"assurance": "low"})
