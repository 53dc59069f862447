"""JSON routes of submissions, under /api/v1: submit answers, attach files, follow a submission.

A submission is checked by the same engine as the pages (``check_answers``) against the version
applicants answer now, and stored by ``service.submit``. ``Idempotency-Key`` makes a retry safe:
the same key with the same body answers the first submission again (200, ``Idempotent-Replayed``);
with another body, 409. Bodies are read with a size limit before anything is parsed, so a huge
request costs little.

A procedure that asks for the applicant's signature (``signature: required``) takes it in the
body's ``signature``: a detached CAdES signature, made with the applicant's My Number card, of
the payload ``submissions.signing`` builds from the answers as they are kept (a client gets
those exact bytes from ``…/signing-payload``). The API has no signed-in person, so the card's
certificate is the applicant's identity: the signature must be valid now, made within the last
minutes and by a certificate that states its holder; the submission keeps it (with the
certificate inside) and its audit record names the certificate.

See docs/api.md for how a client uses these routes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from madoguchi.core.clock import as_utc, today_in_japan
from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, InvalidInputs, MadoguchiError
from madoguchi.core.files import FileStore
from madoguchi.core.i18n import N_, current_language
from madoguchi.procedures import service as procedures
from madoguchi.procedures.answers import AnswerContext
from madoguchi.procedures.answers.uploads import MEGABYTE, accept_upload
from madoguchi.procedures.api import ProcedureId, problem_responses
from madoguchi.procedures.definition import Definition, FileUpload, Group, Question
from madoguchi.procedures.validation import Accepted, all_questions, check_answers
from madoguchi.submissions import service
from madoguchi.submissions.api_schemas import (
    HEADER,
    PAYLOAD_ANSWER,
    PAYLOAD_BODY,
    PAYLOAD_PROBLEMS,
    SUBMISSION_BODY,
    SUBMISSION_PROBLEMS,
    UPLOAD_BODY,
    UPLOAD_PROBLEMS,
    AnswersIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionReceipt,
    UploadedFile,
)
from madoguchi.submissions.api_signature import Signing, checked_signature, payload_to_sign
from madoguchi.submissions.models import Channel, Submission
from madoguchi.submissions.signing import keep_signature

router = APIRouter(prefix="/api/v1", tags=["submissions"])

MAX_BODY_BYTES = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the one file
IDEMPOTENCY_KEY = r"^[!-~](?:[ -~]{0,253}[!-~])?$"  # 1–255 printable ASCII, no outer spaces
JSON_TYPES = ("application/json",)
_Body = TypeVar("_Body", bound=BaseModel)


class PayloadTooLarge(MadoguchiError):
    code = "payload-too-large"
    status = 413
    title = N_("The request is too large")


class UnsupportedMediaType(MadoguchiError):
    code = "unsupported-media-type"
    status = 415
    title = N_("The request body is not of a type this address takes")


@router.post(
    "/procedures/{procedure_id}/submissions",
    status_code=201,
    response_model=SubmissionReceipt,
    responses={
        201: {
            "description": "Submitted",
            "headers": {"Location": {**HEADER, "required": True}},
        },
        200: {
            "model": SubmissionReceipt,
            "description": "Submitted before with this Idempotency-Key and this body",
            "headers": {"Location": HEADER, "Idempotent-Replayed": HEADER},
        },
        **SUBMISSION_PROBLEMS,
    },
    openapi_extra={"requestBody": SUBMISSION_BODY},
)
async def submit_answers(
    request: Request,
    session: Session,
    procedure_id: ProcedureId,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY,
            description="1–255 printable ASCII characters, new for each new submission: "
            "a retry with the same key and body answers the first submission again",
        ),
    ] = None,
) -> JSONResponse:
    """Submit answers to the version of a procedure that applicants answer now; with the
    applicant's card signature when the procedure asks for one."""
    body = await _json_body(request)
    sent = _parsed(SubmissionIn, body)
    procedure = await procedures.get_procedure_by_id(session, procedure_id)
    intake = service.Intake(
        Channel.API,
        current_language(),
        actor="api",
        idempotency_key=idempotency_key,
        request_hash=_canonical_hash(body),
    )
    # A retry is answered as the first time, even if the procedure changed or closed since.
    earlier = await service.replay_of(session, procedure, intake)
    if earlier is not None:
        return _receipt(earlier)
    now = await procedures.current(session, procedure)
    accepted = _accepted(request, now.definition, sent.answers)
    wanted = Signing(procedure, now.version.version, now.definition, accepted)
    signed = await checked_signature(session, request.app.state.settings, wanted, sent.signature)
    if signed is not None:
        intake = replace(intake, actor=f"card-signature:{signed.serial}")
    submitted = await service.submit(session, procedure, now.version, accepted, intake)
    if signed is not None and not submitted.replayed:
        keep_signature(submitted.submission, signed)
        await session.flush()
    return _receipt(submitted)


@router.post(
    "/procedures/{procedure_id}/signing-payload",
    response_class=Response,
    responses={200: PAYLOAD_ANSWER, **PAYLOAD_PROBLEMS},
    openapi_extra={"requestBody": PAYLOAD_BODY},
)
async def signing_payload(
    request: Request, session: Session, procedure_id: ProcedureId
) -> Response:
    """The exact bytes the applicant signs for these answers, for a procedure that asks for a
    signature: the answers checked and kept as a submission would keep them."""
    answers = _parsed(AnswersIn, await _json_body(request)).answers
    procedure = await procedures.get_procedure_by_id(session, procedure_id)
    now = await procedures.current(session, procedure)
    accepted = _accepted(request, now.definition, answers)
    wanted = Signing(procedure, now.version.version, now.definition, accepted)
    payload = await payload_to_sign(session, wanted)
    return Response(payload, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(
    "/procedures/{procedure_id}/files",
    status_code=201,
    response_model=UploadedFile,
    responses=UPLOAD_PROBLEMS,
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_file(
    request: Request,
    session: Session,
    procedure_id: ProcedureId,
    question: Annotated[
        str,
        Query(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="the id of a file question"),
    ],
) -> UploadedFile:
    """Upload one file (form field `file`) for a file question; put the `ref` it returns in
    that question's answer. Size and type are checked against the question, by content."""
    procedure = await procedures.get_procedure_by_id(session, procedure_id)
    now = await procedures.current(session, procedure)
    procedures.check_open(now.definition, today_in_japan())
    asked = _file_question(now.definition, question)
    limit = int(asked.max_size_mb * MEGABYTE) + MULTIPART_OVERHEAD
    filename, data = await _one_file(request, limit)
    store = FileStore.from_settings(request.app.state.settings)
    described = await asyncio.to_thread(accept_upload, asked, filename, data, store)
    return UploadedFile(
        ref=described["ref"],
        name=described["name"],
        size=described["size"],
        media_type=described["media_type"],
    )


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOut,
    responses=problem_responses(
        **{"404": "No such submission", "422": "The submission id is malformed"}
    ),
)
async def get_submission(session: Session, submission_id: uuid.UUID) -> SubmissionOut:
    """Where a submission stands; never its answers."""
    return _out(await service.get_submission(session, submission_id))


# --- Reading bodies -------------------------------------------------------------------------


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (or says it will)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        yield chunk


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "The request is larger than {most} MB.", most=f"{round(limit / MEGABYTE, 1):g}"
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body(request: Request) -> Any:
    media_type = _media_type(request)
    if media_type not in JSON_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).")
    raw = b"".join([chunk async for chunk in _limited(request, MAX_BODY_BYTES)])
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, NaN, or nested too deeply
        raise InvalidInput("The body is not valid JSON.", field="body") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parsed(model: type[_Body], body: Any) -> _Body:
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        raise InvalidInputs(
            [
                InvalidInput(
                    "{problem}",
                    field=".".join(str(part) for part in error["loc"]) or "body",
                    problem=error["msg"],
                )
                for error in invalid.errors()
            ]
        ) from None


def _canonical_hash(body: Any) -> str:
    """SHA-256 of the body as canonical JSON: key order and spacing do not make it another."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _one_file(request: Request, limit: int) -> tuple[str, bytes]:
    if _media_type(request) != "multipart/form-data":
        raise UnsupportedMediaType("Send the file as multipart/form-data, in the field file.")
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1, max_fields=0)
    try:
        form = await parser.parse()
    except MultiPartException as malformed:
        raise InvalidInput(
            "The upload cannot be read: {reason}", field="file", reason=str(malformed)
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("Send the file in the form field named file.", field="file")
        return upload.filename or "file", await upload.read()
    finally:
        await form.close()


# --- Checking answers -------------------------------------------------------------------------


def _accepted(request: Request, definition: Definition, answers: dict[str, Any]) -> Accepted:
    """The answers as a submission keeps them, if the procedure is open and they are valid."""
    today = today_in_japan()
    procedures.check_open(definition, today)
    context = AnswerContext.of(request.app.state.settings)
    return check_answers(definition, answers, today, context)


def _file_question(definition: Definition, question_id: str) -> FileUpload:
    for question in _every_question(all_questions(definition)):
        if question.id == question_id and isinstance(question, FileUpload):
            return question
    raise InvalidInput(
        "This procedure has no file question {id}.", field="question", id=question_id
    )


def _every_question(questions: list[Question]) -> list[Question]:
    found: list[Question] = []
    for question in questions:
        found.append(question)
        if isinstance(question, Group):
            found += _every_question(question.questions)
    return found


# --- Answers --------------------------------------------------------------------------------


def _out(submission: Submission) -> SubmissionOut:
    submitted_at = as_utc(submission.submitted_at)
    return SubmissionOut(
        id=submission.id,
        reference=submission.reference,
        status=submission.status,
        procedure_id=submission.procedure_id,
        version=submission.version,
        submitted_at=submitted_at,
        signed_at=as_utc(submission.signed_at) if submission.signed_at else None,
    )


def _receipt(submitted: service.Submitted) -> JSONResponse:
    location = f"/api/v1/submissions/{submitted.submission.id}"
    receipt = SubmissionReceipt(**_out(submitted.submission).model_dump(), status_url=location)
    headers = {"Location": location}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(
        receipt.model_dump(mode="json"),
        status_code=200 if submitted.replayed else 201,
        headers=headers,
    )
