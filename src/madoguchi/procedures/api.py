"""JSON routes of procedures, under /api/v1: what a body offers, and the JSON Schema of the
submission body of each published version."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import NotFound
from madoguchi.core.settings import Settings
from madoguchi.procedures import service
from madoguchi.procedures.answer_schema import answer_schema
from madoguchi.procedures.definition import LocalText
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/api/v1", tags=["procedures"])

SCHEMA_MEDIA_TYPE = "application/schema+json"
# Published versions never change: their schema may be kept for ever.
IMMUTABLE = "public, max-age=31536000, immutable"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each field in question",
    "required": ["type", "code", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}


def problem_responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for problem+json answers: ``problem_responses(**{"404": "why"})``."""
    return {
        int(status): {
            "description": f"{description} (problem+json)",
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status, description in described.items()
    }


PROBLEMS = problem_responses(
    **{
        "404": "No such public body",
        "422": "The input is malformed; the problem names the field",
    }
)
SCHEMA_PROBLEMS = problem_responses(
    **{
        "404": "No such procedure, or no such published version",
        "422": "The procedure id or version is malformed",
    }
)
ProcedureId = Annotated[uuid.UUID, Path(description="the procedure's id, as listed")]


class ProcedureOut(BaseModel):
    id: uuid.UUID = Field(description="the procedure's id: submit to it with this")
    version: int = Field(description="the version applicants answer now")
    owner: str = Field(description="the code of the body that offers it")
    slug: str
    title: LocalText
    summary: LocalText
    who_may_apply: str
    opens: str | None
    closes: str | None
    adopted_template: bool = Field(description="a national template this body adopted")


class ProcedureList(BaseModel):
    items: list[ProcedureOut]


@router.get("/procedures", response_model=ProcedureList, responses=PROBLEMS)
async def list_procedures(
    session: Session,
    tenant: Annotated[str, Query(description="the offering body's code", max_length=20)],
) -> ProcedureList:
    """The procedures a public body offers now: its own and the templates it adopted."""
    owner = await tenants.get_tenant(session, tenants.parse_tenant_code(tenant, field="tenant"))
    items = []
    for procedure, definition in await service.list_offered(session, owner):
        now = await service.current(session, procedure)
        items.append(
            ProcedureOut(
                id=procedure.id,
                version=now.version.version,
                owner=owner.code,
                slug=procedure.slug,
                title=definition.title,
                summary=definition.summary,
                who_may_apply=definition.who_may_apply.value,
                opens=definition.opens.isoformat() if definition.opens else None,
                closes=definition.closes.isoformat() if definition.closes else None,
                adopted_template=procedure.template_procedure_id is not None,
            )
        )
    return ProcedureList(items=items)


@router.get(
    "/procedures/{procedure_id}/versions/{version}/schema.json",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The JSON Schema (draft 2020-12) of the submission body",
            "content": {SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}},
            "headers": {"Cache-Control": {"schema": {"type": "string"}}},
        },
        **SCHEMA_PROBLEMS,
    },
)
async def version_schema(
    request: Request,
    session: Session,
    procedure_id: ProcedureId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
) -> JSONResponse:
    """The JSON Schema of `POST /api/v1/procedures/{procedure_id}/submissions` for one
    published version. Published versions never change, so neither does this."""
    procedure = await service.get_procedure_by_id(session, procedure_id)
    definition = await _published_definition(session, procedure, version)
    schema = answer_schema(definition, _schema_url(request, procedure_id, version))
    return JSONResponse(schema, media_type=SCHEMA_MEDIA_TYPE, headers={"Cache-Control": IMMUTABLE})


@router.get(
    "/procedures/{procedure_id}/schema.json",
    response_class=RedirectResponse,
    status_code=307,
    responses={
        307: {
            "description": "Redirect to the schema of the version applicants answer now",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **SCHEMA_PROBLEMS,
    },
)
async def current_schema(session: Session, procedure_id: ProcedureId) -> RedirectResponse:
    """Where the schema of the current version is (it moves when a new version is published)."""
    procedure = await service.get_procedure_by_id(session, procedure_id)
    now = await service.current(session, procedure)
    path = _schema_path(procedure_id, now.version.version)
    return RedirectResponse(path, status_code=307, headers={"Cache-Control": "no-cache"})


def _schema_path(procedure_id: uuid.UUID, version: int) -> str:
    return f"/api/v1/procedures/{procedure_id}/versions/{version}/schema.json"


def _schema_url(request: Request, procedure_id: uuid.UUID, version: int) -> str:
    """The schema's stable address on the site's public URL: its ``$id``."""
    settings: Settings = request.app.state.settings
    return settings.resolved_public_url() + _schema_path(procedure_id, version)


async def _published_definition(
    session: AsyncSession, procedure: service.Procedure, version: int
) -> service.Definition:
    """One published version's definition; an adopter's versions are its template's."""
    owner = procedure
    if procedure.template_procedure_id is not None:
        owner = await service.get_procedure_by_id(session, procedure.template_procedure_id)
    for found in await service.published_versions(session, owner):
        if found.version == version and found.published_at is not None:
            return service.Definition.model_validate(found.definition)
    raise NotFound(
        "There is no published version {version} of this procedure.",
        field="version",
        version=version,
    )
