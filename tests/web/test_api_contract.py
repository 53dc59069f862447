"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Every documented operation is called with generated inputs, valid and invalid; each answer must
match the document (status, content type, body schema) and never be a server error.

"Schema-valid data must be accepted" is left out: a code can match its pattern and still have a
wrong check digit, which JSON Schema cannot express; such input is answered 422, as documented.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from madoguchi.core.settings import Settings
from madoguchi.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.submissions.examples import MOVING

SPEC = create_app(Settings(data_dir=Path("unused"), secret_key=TEST_SECRET)).openapi()
OPERATIONS = [result.ok() for result in schemathesis.openapi.from_dict(SPEC).get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_every_operation_answers_as_documented(client: TestClient, operation: object) -> None:
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: schemathesis.Case) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs.pop("cookies", None)  # the API takes no cookies
        if not _encodable(client, kwargs):
            return
        response = client.request(**kwargs, follow_redirects=False)
        assert response.status_code < 500, response.text
        response.request.read()  # a body the server did not need to read, for the checks
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    call()


def _encodable(client: TestClient, kwargs: dict[str, Any]) -> bool:
    """Whether the HTTP client can send the case at all: a negative case may put a number
    where a multipart file goes, which fails inside the client, never reaching the server."""
    try:
        client.build_request(**kwargs).read()
    except (TypeError, AttributeError):
        return False
    return True


# Operations on one procedure or submission: with made-up ids the fuzzing above only ever
# reaches "not found", so here most cases name a real one (the seeded examples, and a
# submission made first), and the answers, files and headers are what gets fuzzed.
ON_REAL_IDS = [
    op for op in OPERATIONS if "{procedure_id}" in op.path or "{submission_id}" in op.path
]
FILE_QUESTIONS = ["quotes", "attachments"]


def _real_ids(client: TestClient) -> tuple[list[str], str]:
    procedures = [
        item["id"]
        for tenant in ("soumu", "meti", "011002")
        for item in client.get("/api/v1/procedures", params={"tenant": tenant}).json()["items"]
    ]
    sapporo = client.get("/api/v1/procedures", params={"tenant": "011002"}).json()["items"][0]
    made = client.post(f"/api/v1/procedures/{sapporo['id']}/submissions", json={"answers": MOVING})
    assert made.status_code == 201, made.text
    return procedures, made.json()["id"]


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _on_real_ids(case: schemathesis.Case, procedure: str, submission: str, question: str) -> None:
    """Name real things where the case gave a well-formed id (a malformed one is what a
    negative case is testing, so it stays)."""
    path = case.path_parameters or {}
    for name, real in (("procedure_id", procedure), ("submission_id", submission)):
        if name in path and _is_uuid(path[name]):
            path[name] = real
    query = case.query or {}
    if (
        "question" in query
        and isinstance(query["question"], str)
        and query["question"].isidentifier()
    ):
        query["question"] = question


@pytest.mark.parametrize("operation", ON_REAL_IDS, ids=lambda op: op.label)
def test_operations_on_real_procedures_answer_as_documented(
    client: TestClient, operation: object
) -> None:
    procedures, submission = _real_ids(client)

    @given(
        case=operation.as_strategy(),  # type: ignore[attr-defined]
        procedure=st.sampled_from(procedures),
        question=st.sampled_from(FILE_QUESTIONS),
    )
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: schemathesis.Case, procedure: str, question: str) -> None:
        _on_real_ids(case, procedure, submission, question)
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs.pop("cookies", None)
        if not _encodable(client, kwargs):
            return
        response = client.request(**kwargs, follow_redirects=False)
        assert response.status_code < 500, response.text
        response.request.read()  # a body the server did not need to read, for the checks
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    call()
