"""The submissions API: submit answers, attach files, follow a submission, retry safely."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.procedures import service as procedures
from madoguchi.submissions import service
from madoguchi.submissions.models import Submission, SubmissionEvent
from tests.submissions.examples import (
    MOVING,
    OPINION,
    moving_id,
    procedure_id,
    random_id,
    subsidy,
    upload_pdf,
)
from tests.support.samples import EXE

CLOSED = """
format: madoguchi.procedure/1
slug: closed-survey
owner: soumu
title: {ja: 終了した調査}
summary: {ja: 受付は終わりました。}
closes: 2020-03-31
pages:
  - id: only
    title: {ja: 質問}
    questions:
      - {id: opinion, type: short_text, label: {ja: ご意見}}
confirmation: {ja: 受け付けました。}
"""


def submit(client: TestClient, procedure: str, answers: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/api/v1/procedures/{procedure}/submissions", json={"answers": answers}, headers=headers
    )


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


async def count(session: AsyncSession, table: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_valid_submission_is_stored_and_can_be_followed(
    client: TestClient, session: AsyncSession
) -> None:
    procedure = moving_id(client)
    response = submit(client, procedure, MOVING)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert response.headers["location"] == receipt["status_url"]
    assert receipt["procedure_id"] == procedure and receipt["status"] == "received"
    assert receipt["version"] == 1 and receipt["submitted_at"].endswith("Z")

    followed = client.get(receipt["status_url"])
    assert followed.status_code == 200
    assert followed.json() == {k: v for k, v in receipt.items() if k != "status_url"}
    assert "answers" not in followed.json()

    stored = await service.get_submission(session, uuid.UUID(receipt["id"]))
    assert stored.channel == "api" and stored.reference == receipt["reference"]
    assert stored.request_hash is not None and len(stored.request_hash) == 64
    assert stored.answers["address"]["municipality"]["name"] == "札幌市"
    assert stored.answers["members"][0]["member_birth"] == "1990-05-06"
    assert await count(session, SubmissionEvent) == 1


async def test_every_problem_is_reported_with_its_field_and_nothing_is_stored(
    client: TestClient, session: AsyncSession
) -> None:
    answers = {
        "moved_on": "the day before yesterday",
        "address": {"postal_code": "123"},
        "members": [{"member_name": {"family": "札幌"}, "relationship": "cousin"}],
        "pet": "cat",
    }
    response = submit(client, moving_id(client), answers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid-input"
    assert problem_fields(response) == [
        "pet",
        "moved_on",
        "address.postal_code",
        "members[0].member_name.family_kana",
        "members[0].relationship",
        "members[0].member_birth",
    ]
    assert await count(session, Submission) == 0


def test_answers_to_questions_the_procedure_does_not_have_are_refused(client: TestClient) -> None:
    item = {**MOVING["members"][0], "nickname": "はな"}
    response = submit(client, moving_id(client), {**MOVING, "members": [item]})
    assert response.status_code == 422
    assert problem_fields(response) == ["members[0].nickname"]


def test_answers_that_lead_to_an_exit_are_refused(client: TestClient) -> None:
    procedure = procedure_id(client, "meti", "small-business-subsidy")
    ref = upload_pdf(client, procedure, "quotes").json()["ref"]
    response = submit(client, procedure, {**subsidy(ref), "employees": 25})
    assert response.status_code == 422
    assert problem_fields(response) == ["answers"]
    assert "20" in response.json()["detail"]


def test_the_same_key_and_body_answer_the_first_submission_again(client: TestClient) -> None:
    procedure = moving_id(client)
    first = submit(client, procedure, MOVING, key="order-2026-0001")
    # the same body in another key order and spacing is the same body
    reordered = '{"answers": ' + _json_reversed(MOVING) + "}"
    again = client.post(
        f"/api/v1/procedures/{procedure}/submissions",
        content=reordered.encode(),
        headers={"Idempotency-Key": "order-2026-0001", "Content-Type": "application/json"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert "idempotent-replayed" not in first.headers


def _json_reversed(answers: dict[str, Any]) -> str:
    return json.dumps(dict(reversed(list(answers.items()))), ensure_ascii=False, indent=2)


def test_the_same_key_with_another_body_is_a_conflict(
    client: TestClient,
) -> None:
    procedure = moving_id(client)
    assert submit(client, procedure, MOVING, key="k-1").status_code == 201
    changed = {**MOVING, "moved_on": "2026-04-02"}
    conflict = submit(client, procedure, changed, key="k-1")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency-key-reused"
    assert problem_fields(conflict) == ["Idempotency-Key"]
    assert submit(client, procedure, changed, key="k-2").status_code == 201


@pytest.mark.parametrize("key", ["", " leading", "trailing ", "日本語", "x" * 256])
def test_an_idempotency_key_is_1_to_255_printable_ascii(client: TestClient, key: str) -> None:
    response = client.post(
        f"/api/v1/procedures/{moving_id(client)}/submissions",
        json={"answers": MOVING},
        headers={"Idempotency-Key": key.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 422
    assert problem_fields(response) == ["Idempotency-Key"]


async def test_two_requests_with_one_key_at_once_make_one_submission(
    app: FastAPI, session: AsyncSession
) -> None:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            listed = await api.get("/api/v1/procedures", params={"tenant": "011002"})
            procedure = listed.json()["items"][0]["id"]
            responses = await asyncio.gather(
                *(
                    api.post(
                        f"/api/v1/procedures/{procedure}/submissions",
                        json={"answers": MOVING},
                        headers={"Idempotency-Key": "at-once"},
                    )
                    for _ in range(2)
                )
            )
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert await count(session, Submission) == 1
    assert await count(session, SubmissionEvent) == 1


def test_a_file_is_uploaded_then_named_in_the_answers(client: TestClient) -> None:
    procedure = procedure_id(client, "soumu", "metaverse-consultation")
    uploaded = upload_pdf(client, procedure, "attachments", name="../意見書.pdf")
    assert uploaded.status_code == 201, uploaded.text
    described = uploaded.json()
    assert described["name"] == "意見書.pdf" and described["media_type"] == "application/pdf"
    assert described["ref"].endswith("/意見書.pdf") and described["size"] > 0

    response = submit(client, procedure, {**OPINION, "attachments": [described["ref"]]})
    assert response.status_code == 201, response.text


def test_an_upload_is_checked_against_its_question(client: TestClient) -> None:
    procedure = procedure_id(client, "meti", "small-business-subsidy")
    program = client.post(
        f"/api/v1/procedures/{procedure}/files",
        params={"question": "quotes"},
        files={"file": ("quote.pdf", EXE, "application/pdf")},
    )
    assert program.status_code == 422 and problem_fields(program) == ["quotes"]
    not_a_file = upload_pdf(client, procedure, "employees")
    assert not_a_file.status_code == 422 and problem_fields(not_a_file) == ["question"]
    no_file = client.post(
        f"/api/v1/procedures/{procedure}/files",
        params={"question": "quotes"},
        files={"other": ("x.pdf", b"%PDF-1.7", "application/pdf")},
    )
    assert no_file.status_code == 422 and problem_fields(no_file) == ["file"]
    as_json = client.post(
        f"/api/v1/procedures/{procedure}/files", params={"question": "quotes"}, json={}
    )
    assert as_json.status_code == 415
    ref = "0" * 64 + "/made-up.pdf"
    made_up = submit(client, procedure, subsidy(ref))
    assert made_up.status_code == 422 and problem_fields(made_up) == ["quotes"]


def test_an_unknown_procedure_is_not_found(client: TestClient) -> None:
    response = submit(client, random_id(), MOVING)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/submissions/{random_id()}").status_code == 404
    assert upload_pdf(client, random_id(), "quotes").status_code == 404


async def test_a_closed_procedure_takes_no_submissions(
    client: TestClient, session: AsyncSession
) -> None:
    draft = await procedures.save_draft(session, "soumu", CLOSED)
    procedure = await procedures.get_procedure(session, "soumu", "closed-survey")
    await procedures.publish(session, procedure, draft.version)
    await session.commit()
    response = submit(client, str(procedure.id), {"opinion": "遅すぎました"})
    assert response.status_code == 422
    assert problem_fields(response) == ["procedure"]
    assert "2020-03-31" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fields"),
    [
        (b"{not json", "application/json", 422, ["body"]),
        (b'{"answers": NaN}', "application/json", 422, ["body"]),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 422, ["body"]),
        (b'["answers"]', "application/json", 422, ["body"]),
        (b'{"answers": {}, "extra": 1}', "application/json", 422, ["extra"]),
        (b'{"answers": []}', "application/json", 422, ["answers"]),
        (b"answers=1", "application/x-www-form-urlencoded", 415, None),
        (b'{"answers": {"pad": "' + b"x" * 1_100_000 + b'"}}', "application/json", 413, None),
    ],
)
def test_a_malformed_body_is_refused_with_a_problem(
    client: TestClient, body: bytes, content_type: str, status: int, fields: list[str] | None
) -> None:
    response = client.post(
        f"/api/v1/procedures/{moving_id(client)}/submissions",
        content=body,
        headers={"Content-Type": content_type, "Accept-Language": "en"},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if fields is not None:
        assert problem_fields(response) == fields
    if status == 413:
        assert response.json()["detail"] == "The request is larger than 1 MB."
