"""The bodies and answers of the submissions API (``submissions.api``), as OpenAPI shows them.

Kept apart from the routes so that the routes read as what they do; every model here is what
a client sends or receives, with the description a client reads in /api/docs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from madoguchi.procedures.api import problem_responses

ANSWERS_DESCRIPTION = (
    "answers by question id, as a person would type them; the exact shape for each version is "
    "at /api/v1/procedures/{procedure_id}/versions/{version}/schema.json"
)


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(description=ANSWERS_DESCRIPTION)


class SubmissionIn(AnswersIn):
    signature: str | None = Field(
        default=None,
        description="for a procedure that asks for the applicant's signature (its "
        "`signature` is `required`): base64 of a detached CAdES-BES signature, made with the "
        "applicant's My Number card, of the exact bytes that "
        "POST /api/v1/procedures/{procedure_id}/signing-payload returns for these answers; "
        "leave it out for any other procedure",
    )


class SubmissionOut(BaseModel):
    id: uuid.UUID
    reference: str = Field(description="the reference number people read out, such as 7KQ2-9XMD-R")
    status: str
    procedure_id: uuid.UUID
    version: int = Field(description="the version of the procedure that was answered")
    submitted_at: dt.datetime
    signed_at: dt.datetime | None = Field(
        default=None,
        description="when the applicant signed with the My Number card, for a procedure that "
        "asks for a signature (as the signature states it, checked on receipt)",
    )


class SubmissionReceipt(SubmissionOut):
    status_url: str = Field(description="where to follow this submission")


class UploadedFile(BaseModel):
    ref: str = Field(description="put this in the question's answer list")
    name: str
    size: int
    media_type: str = Field(description="as the content shows it, not as the name says")


class SigningPayload(BaseModel):
    """The document an applicant signs (its exact bytes are the answer's body)."""

    format: str = Field(description="the layout of this document: madoguchi-signed-answers/1")
    tenant: str = Field(description="the code of the public body that receives the submission")
    procedure: str = Field(description="the procedure's id")
    version: int = Field(description="the version answered now")
    answers: dict[str, Any] = Field(description="the answers as madoguchi keeps them")


SUBMISSION_PROBLEMS = problem_responses(
    **{
        "404": "No such procedure, or it is not published",
        "409": "This Idempotency-Key was used with a different body",
        "413": "The body is larger than 1 MB",
        "415": "The body is not JSON",
        "422": "The answers, the signature or the request are not valid: each problem names "
        "its field",
    }
)
PAYLOAD_PROBLEMS = problem_responses(
    **{
        "404": "No such procedure, or it is not published",
        "413": "The body is larger than 1 MB",
        "415": "The body is not JSON",
        "422": "The answers are not valid, or the procedure asks for no signature: each "
        "problem names its field",
    }
)
UPLOAD_PROBLEMS = problem_responses(
    **{
        "404": "No such procedure, or it is not published",
        "413": "The body is larger than the question allows",
        "415": "The body is not multipart/form-data",
        "422": "No file question with this id, or the file is refused: the problem says why",
    }
)
HEADER = {"schema": {"type": "string"}}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI request body of JSON shaped as ``model``."""
    return {
        "required": True,
        "content": {"application/json": {"schema": model.model_json_schema()}},
    }


SUBMISSION_BODY = json_body(SubmissionIn)
PAYLOAD_BODY = json_body(AnswersIn)
PAYLOAD_ANSWER = {
    "description": "The exact bytes to sign: RFC 8785 canonical JSON (sign them as they are, "
    "never re-encoded)",
    "content": {"application/json": {"schema": SigningPayload.model_json_schema()}},
}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}
