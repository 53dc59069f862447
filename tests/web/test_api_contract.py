"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Every documented operation is called with generated inputs, valid and invalid; each answer must
match the document (status, content type, body schema) and never be a server error.

"Schema-valid data must be accepted" is left out: a code can match its pattern and still have a
wrong check digit, which JSON Schema cannot express; such input is answered 422, as documented.
"""

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from madoguchi.core.settings import Settings
from madoguchi.web.app import create_app
from tests.conftest import TEST_SECRET

SPEC = create_app(Settings(data_dir=Path("unused"), secret_key=TEST_SECRET)).openapi()
OPERATIONS = [result.ok() for result in schemathesis.openapi.from_dict(SPEC).get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_every_operation_answers_as_documented(client: TestClient, operation: object) -> None:
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: schemathesis.Case) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs.pop("cookies", None)  # the API takes no cookies
        response = client.request(**kwargs)
        assert response.status_code < 500, response.text
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    call()
