"""JSON routes of procedures, under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from madoguchi.core.dependencies import Session
from madoguchi.procedures import service
from madoguchi.procedures.definition import LocalText
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/api/v1", tags=["procedures"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such public body (problem+json)"},
    422: {"description": "The input is malformed; the problem names the field (problem+json)"},
}


class ProcedureOut(BaseModel):
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
    items = [
        ProcedureOut(
            owner=owner.code,
            slug=procedure.slug,
            title=definition.title,
            summary=definition.summary,
            who_may_apply=definition.who_may_apply.value,
            opens=definition.opens.isoformat() if definition.opens else None,
            closes=definition.closes.isoformat() if definition.closes else None,
            adopted_template=procedure.template_procedure_id is not None,
        )
        for procedure, definition in await service.list_offered(session, owner)
    ]
    return ProcedureList(items=items)
