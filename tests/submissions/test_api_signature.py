"""The applicant's My Number card signature on a submission made through the API: the small
business subsidy needs one, the payload to sign comes from ``…/signing-payload``, and a missing,
foreign, stale, tampered or revoked signature is refused with problem+json, nothing stored."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_simulator.cards import find_card, open_signature_key
from madoguchi.identity.card_simulator.signing import sign_digest
from madoguchi.signatures.payload import PAYLOAD_FORMAT
from madoguchi.submissions import service
from madoguchi.submissions.models import Submission, SubmissionEvent
from madoguchi.submissions.signing import payload_of, recheck
from tests.submissions.examples import MOVING, moving_id, procedure_id, subsidy, upload_pdf
from tests.support.cards import HANAKO, PASSWORD, in_database, issue, revoke

SIGNED_FORMAT = "cades-bes-detached"


@pytest.fixture
def subsidy_id(client: TestClient) -> str:
    return procedure_id(client, "meti", "small-business-subsidy")


@pytest.fixture
def answers(client: TestClient, subsidy_id: str) -> dict[str, Any]:
    """The subsidy's answers, as a client sends them, with a quotation uploaded."""
    return subsidy(upload_pdf(client, subsidy_id, "quotes").json()["ref"])


@pytest.fixture
def card(database_url: str, settings: Settings) -> str:
    """Hanako's virtual card (its number): its signature key signs in the tests."""
    return issue(database_url, settings, HANAKO).card_number


def payload(client: TestClient, procedure: str, answers: dict[str, Any]) -> Response:
    return client.post(
        f"/api/v1/procedures/{procedure}/signing-payload",
        json={"answers": answers},
        headers={"Accept-Language": "en"},
    )


def card_signature(
    database_url: str,
    settings: Settings,
    card_number: str,
    data: bytes,
    when: dt.datetime | None = None,
) -> str:
    """The card's signature of ``data``, base64: made as the simulator's signing page makes it
    (the signature key opened with the password, ``sign_digest`` over the SHA-256)."""
    now = when or dt.datetime.now(dt.UTC)

    async def work(session: AsyncSession) -> bytes:
        found = await find_card(session, card_number)
        opened = await open_signature_key(session, settings, found, PASSWORD, now)
        return await sign_digest(hashlib.sha256(data).digest(), opened, card_number, now)

    return base64.b64encode(in_database(database_url, work)).decode("ascii")


def send(client: TestClient, procedure: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Accept-Language": "en"} | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/procedures/{procedure}/submissions", json=body, headers=headers)


def refused(response: Response, code: str) -> str:
    """The problem's detail, once it is a 422 of ``code`` about the signature."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code, problem
    assert [error["field"] for error in problem["errors"]] == ["signature"]
    return str(problem["detail"])


def stored(database_url: str) -> list[Submission]:
    async def work(session: AsyncSession) -> list[Submission]:
        return list((await session.scalars(select(Submission))).all())

    return in_database(database_url, work)


def test_the_payload_is_the_answers_as_kept_in_canonical_json(
    client: TestClient, subsidy_id: str, answers: dict[str, Any]
) -> None:
    response = payload(client, subsidy_id, answers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document = json.loads(response.content)
    assert document["format"] == PAYLOAD_FORMAT
    assert (document["tenant"], document["procedure"]) == ("meti", subsidy_id)
    assert document["answers"]["equipment_cost"] == 1200000  # "1,200,000" as kept
    assert document["answers"]["bank_account"]["bank_code"] == "0001"
    assert response.content == json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")  # canonical: these answers have no floats, so JCS is sorted and compact


def test_an_unsigned_submission_is_refused_saying_a_card_signature_is_needed(
    client: TestClient, database_url: str, subsidy_id: str, answers: dict[str, Any]
) -> None:
    detail = refused(send(client, subsidy_id, {"answers": answers}), "signature-required")
    assert "needs the applicant's signature with their My Number card" in detail
    assert f"POST /api/v1/procedures/{subsidy_id}/signing-payload" in detail
    assert stored(database_url) == []


async def test_a_signed_submission_is_received_and_its_signature_kept(
    client: TestClient,
    database_url: str,
    settings: Settings,
    session: AsyncSession,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    signed = payload(client, subsidy_id, answers).content
    signature = card_signature(database_url, settings, card, signed)
    body = {"answers": answers, "signature": signature}
    response = send(client, subsidy_id, body, key="signed-1")
    assert response.status_code == 201, response.text
    assert response.json()["signed_at"] is not None

    kept = await service.get_submission(session, uuid.UUID(response.json()["id"]))
    assert kept.signature_format == SIGNED_FORMAT and kept.person_id is None
    assert kept.signature == base64.b64decode(signature) and kept.signature_serial
    assert payload_of("meti", kept.procedure_id, kept.version, kept.answers) == signed
    verdict = await recheck(session, settings, kept, "meti")  # from the stored answers
    assert verdict is not None and verdict.valid, verdict
    (event,) = (await session.scalars(select(SubmissionEvent))).all()
    assert event.actor == f"card-signature:{kept.signature_serial}"
    again = send(client, subsidy_id, body, key="signed-1")
    assert again.status_code == 200 and again.json() == response.json()


def test_a_signature_of_other_answers_is_refused(
    client: TestClient,
    database_url: str,
    settings: Settings,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    signed = payload(client, subsidy_id, answers).content
    signature = card_signature(database_url, settings, card, signed)
    changed = {**answers, "employees": 13}
    detail = refused(
        send(client, subsidy_id, {"answers": changed, "signature": signature}),
        "signature-refused",
    )
    assert "not a signature of these answers" in detail and "signing-payload" in detail
    assert stored(database_url) == []


def test_a_signature_of_what_the_client_sent_rather_than_the_payload_is_refused(
    client: TestClient,
    database_url: str,
    settings: Settings,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    sent = json.dumps({"answers": answers}).encode()
    signature = card_signature(database_url, settings, card, sent)
    response = send(client, subsidy_id, {"answers": answers, "signature": signature})
    assert "not a signature of these answers" in refused(response, "signature-refused")


def test_a_tampered_signature_is_refused(
    client: TestClient,
    database_url: str,
    settings: Settings,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    signed = payload(client, subsidy_id, answers).content
    der = bytearray(base64.b64decode(card_signature(database_url, settings, card, signed)))
    der[-10] ^= 0xFF  # a byte of the RSA signature value
    body = {"answers": answers, "signature": base64.b64encode(der).decode()}
    detail = refused(send(client, subsidy_id, body), "signature-refused")
    assert "needs a valid signature with the applicant's My Number card" in detail
    assert "does not verify" in detail
    assert stored(database_url) == []


def test_a_signature_by_a_revoked_card_is_refused_with_the_reason(
    client: TestClient,
    database_url: str,
    settings: Settings,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    signed = payload(client, subsidy_id, answers).content
    signature = card_signature(database_url, settings, card, signed)
    revoke(database_url, card)
    response = send(client, subsidy_id, {"answers": answers, "signature": signature})
    assert "revoked" in refused(response, "signature-refused")
    assert stored(database_url) == []


def test_a_signature_made_long_ago_is_refused(
    client: TestClient,
    database_url: str,
    settings: Settings,
    subsidy_id: str,
    answers: dict[str, Any],
    card: str,
) -> None:
    signed = payload(client, subsidy_id, answers).content
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15)
    signature = card_signature(database_url, settings, card, signed, when=earlier)
    response = send(client, subsidy_id, {"answers": answers, "signature": signature})
    assert "more than ten minutes ago" in refused(response, "signature-refused")


@pytest.mark.parametrize("signature", ["not base64!", "", "AAAA"])
def test_a_signature_that_is_not_one_is_refused(
    client: TestClient, subsidy_id: str, answers: dict[str, Any], signature: str
) -> None:
    response = send(client, subsidy_id, {"answers": answers, "signature": signature})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["signature"]


def test_a_procedure_without_a_signature_takes_none(client: TestClient) -> None:
    procedure = moving_id(client)
    body = {"answers": MOVING, "signature": base64.b64encode(b"anything").decode()}
    response = send(client, procedure, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "signature"
    assert "does not ask for a signature" in response.json()["detail"]
    asked = payload(client, procedure, MOVING)
    assert asked.status_code == 422 and asked.json()["errors"][0]["field"] == "procedure"


def test_the_payload_is_refused_for_answers_that_are_not_valid(
    client: TestClient, subsidy_id: str, answers: dict[str, Any]
) -> None:
    response = payload(client, subsidy_id, {**answers, "employees": "many"})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["employees"]
