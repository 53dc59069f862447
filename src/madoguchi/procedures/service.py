"""The procedures domain's public functions: drafts, publishing, rollback, template adoption.

A procedure belongs to its owner (a tenant) and has numbered versions. The latest version may be
a draft, which its owner edits in place; publishing makes it immutable and current. Rolling back
makes an earlier published version current again, so every version ever published stays
available for the submissions made against it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.tenancy import enter_tenant
from madoguchi.procedures.definition import Definition, LocalText
from madoguchi.procedures.loader import DefinitionError, load_definition
from madoguchi.procedures.models import Procedure, ProcedureVersion, VersionStatus
from madoguchi.tenants import service as tenants

__all__ = [
    "Current",
    "Definition",
    "DefinitionError",
    "Procedure",
    "ProcedureVersion",
    "adopt_template",
    "check_open",
    "current",
    "definition_of",
    "effective_definition",
    "get_procedure",
    "get_procedure_by_id",
    "list_offered",
    "list_procedures",
    "list_versions",
    "publish",
    "published_versions",
    "roll_back_to",
    "save_draft",
]


async def save_draft(
    session: AsyncSession, owner_code: str, source: str, workbook_sha256: str | None = None
) -> ProcedureVersion:
    """Store ``source`` as the draft version of its procedure (created on first save).

    ``workbook_sha256`` names the Excel workbook the draft was made from; without one, a draft
    keeps the workbook of the version before it, so responses still export into that layout.
    """
    definition = load_definition(source)
    owner = await tenants.get_tenant(session, owner_code)
    await enter_tenant(session, owner.id)
    if definition.owner != owner.code:
        raise InvalidInput(
            "The definition names {named} as its owner, but it is being saved for {owner}.",
            field="owner",
            named=definition.owner,
            owner=owner.code,
        )
    procedure = await _procedure_for(session, owner, definition.slug)
    latest = await _latest_version(session, procedure)
    workbook = workbook_sha256 or (latest.workbook_sha256 if latest else None)
    if latest is not None and latest.status == VersionStatus.DRAFT:
        latest.source, latest.definition = source, _stored(definition)
        latest.workbook_sha256 = workbook
        return latest
    draft = ProcedureVersion(
        tenant_id=owner.id,
        procedure_id=procedure.id,
        version=(latest.version + 1) if latest else 1,
        status=VersionStatus.DRAFT.value,
        source=source,
        definition=_stored(definition),
        workbook_sha256=workbook,
    )
    session.add(draft)
    await session.flush()
    return draft


async def publish(session: AsyncSession, procedure: Procedure, version: int) -> ProcedureVersion:
    """Make a draft version immutable and the one applicants get."""
    await enter_tenant(session, procedure.tenant_id)
    found = await _version(session, procedure, version)
    if found.status != VersionStatus.DRAFT:
        raise InvalidInput(
            "Version {version} is already published; published versions never change.",
            field="version",
            version=version,
        )
    found.status = VersionStatus.PUBLISHED.value
    found.published_at = dt.datetime.now(dt.UTC)
    procedure.current_version = version
    await session.flush()
    return found


async def roll_back_to(session: AsyncSession, procedure: Procedure, version: int) -> None:
    """Make an earlier published version current again; later versions are kept."""
    await enter_tenant(session, procedure.tenant_id)
    found = await _version(session, procedure, version)
    if found.status != VersionStatus.PUBLISHED:
        raise InvalidInput(
            "Version {version} was never published, so it cannot be made current.",
            field="version",
            version=version,
        )
    procedure.current_version = version
    await session.flush()


async def adopt_template(
    session: AsyncSession, adopter_code: str, template: Procedure, localisation: dict[str, Any]
) -> Procedure:
    """A municipality offers a national template as its own, with its own contact and guidance.

    The questions stay the template's: when the ministry publishes a new version, every adopter
    offers it at once.
    """
    definition = await effective_definition(session, template)
    if not definition.template:
        raise InvalidInput(
            "This procedure is not a template that others may adopt.", field="template"
        )
    adopter = await tenants.get_tenant(session, adopter_code)
    if not tenants.TenantKind(adopter.kind).is_local:
        raise InvalidInput("Only a local government can adopt a template.", field="adopter")
    check_localisation(localisation)
    await enter_tenant(session, adopter.id)
    procedure = await _procedure_for(session, adopter, definition.slug)
    procedure.template_tenant_id, procedure.template_procedure_id = template.tenant_id, template.id
    procedure.localisation = localisation
    await session.flush()
    return procedure


LOCALISABLE = ("contact", "extra_guidance")


def check_localisation(localisation: dict[str, Any]) -> None:
    for key, value in localisation.items():
        if key not in LOCALISABLE:
            raise InvalidInput(
                "{key} cannot be localised; an adopter may set: {allowed}.",
                field=f"localisation.{key}",
                key=key,
                allowed=", ".join(LOCALISABLE),
            )
        LocalText.model_validate(value)


@dataclass(frozen=True)
class Current:
    """What applicants answer now: the published version (the template's, for an adopter) and
    its definition, localised by the adopter."""

    version: ProcedureVersion
    definition: Definition


async def current(session: AsyncSession, procedure: Procedure) -> Current:
    if procedure.template_procedure_id is not None:
        template = await current(session, await _template_of(session, procedure))
        localised = _localised(template.definition, procedure.localisation)
        return Current(template.version, localised)
    if procedure.current_version is None:
        raise NotFound("This procedure has not been published yet.", field="procedure")
    version = await _version(session, procedure, procedure.current_version)
    return Current(version, Definition.model_validate(version.definition))


async def effective_definition(session: AsyncSession, procedure: Procedure) -> Definition:
    """The definition applicants get now: an adopter's is the template's, localised."""
    return (await current(session, procedure)).definition


async def definition_of(
    session: AsyncSession, tenant_id: uuid.UUID, procedure_id: uuid.UUID, version: int
) -> Definition:
    """The definition of one version, as it was published (what a submission answered)."""
    found = await session.get(ProcedureVersion, (tenant_id, procedure_id, version))
    if found is None:
        raise NotFound("There is no version {version} of this procedure.", version=version)
    return Definition.model_validate(found.definition)


def check_open(definition: Definition, today: dt.date) -> None:
    """Refuse a submission before the procedure opens or after it closes."""
    if definition.opens and today < definition.opens:
        raise InvalidInput(
            "This procedure opens on {date}.", field="procedure", date=definition.opens.isoformat()
        )
    if definition.closes and today > definition.closes:
        raise InvalidInput(
            "This procedure closed on {date}.",
            field="procedure",
            date=definition.closes.isoformat(),
        )


async def get_procedure_by_id(session: AsyncSession, procedure_id: uuid.UUID) -> Procedure:
    procedure = await session.scalar(select(Procedure).where(Procedure.id == procedure_id))
    if procedure is None:
        raise NotFound("There is no procedure {id}.", field="procedure", id=str(procedure_id))
    return procedure


def _localised(definition: Definition, localisation: dict[str, Any]) -> Definition:
    changes: dict[str, Any] = {}
    if "contact" in localisation:
        changes["contact"] = LocalText.model_validate(localisation["contact"])
    if "extra_guidance" in localisation:
        changes["guidance"] = _joined(definition.guidance, localisation["extra_guidance"])
    return definition.model_copy(update=changes)


def _joined(guidance: LocalText | None, extra: dict[str, str]) -> LocalText:
    added = LocalText.model_validate(extra)
    if guidance is None:
        return added
    english = "\n\n".join(text for text in (guidance.en, added.en) if text) or None
    return LocalText(ja=f"{guidance.ja}\n\n{added.ja}", en=english)


async def list_offered(
    session: AsyncSession, owner: tenants.Tenant
) -> list[tuple[Procedure, Definition]]:
    """What a body offers now: its own published procedures and the templates it adopted."""
    procedures = await session.scalars(
        select(Procedure).where(Procedure.tenant_id == owner.id).order_by(Procedure.slug)
    )
    offered = []
    for procedure in procedures:
        if procedure.current_version is not None or procedure.template_procedure_id is not None:
            offered.append((procedure, await effective_definition(session, procedure)))
    return offered


async def get_procedure(session: AsyncSession, owner_code: str, slug: str) -> Procedure:
    owner = await tenants.get_tenant(session, owner_code)
    procedure = await _find_procedure(session, owner, slug)
    if procedure is None:
        raise NotFound(
            "{owner} has no procedure called {slug}.",
            field="procedure",
            owner=owner.code,
            slug=slug,
        )
    return procedure


async def list_procedures(session: AsyncSession, owner: tenants.Tenant) -> list[Procedure]:
    """Every procedure of a body, unpublished drafts included (for its staff)."""
    found = await session.scalars(
        select(Procedure).where(Procedure.tenant_id == owner.id).order_by(Procedure.slug)
    )
    return list(found)


async def list_versions(session: AsyncSession, procedure: Procedure) -> Sequence[ProcedureVersion]:
    """Every version of a procedure, drafts included (for its owner's staff, whose tenant the
    transaction enters)."""
    await enter_tenant(session, procedure.tenant_id)
    return await _versions(session, procedure)


async def published_versions(
    session: AsyncSession, procedure: Procedure
) -> Sequence[ProcedureVersion]:
    """A procedure's published versions, oldest first: public, so no tenant is entered (a
    municipality's staff read a ministry's template this way)."""
    return await _versions(session, procedure, published_only=True)


async def _versions(
    session: AsyncSession, procedure: Procedure, *, published_only: bool = False
) -> Sequence[ProcedureVersion]:
    query = (
        select(ProcedureVersion)
        .where(ProcedureVersion.tenant_id == procedure.tenant_id)
        .where(ProcedureVersion.procedure_id == procedure.id)
        .order_by(ProcedureVersion.version)
    )
    if published_only:
        query = query.where(ProcedureVersion.status == VersionStatus.PUBLISHED.value)
    return (await session.scalars(query)).all()


async def _procedure_for(session: AsyncSession, owner: tenants.Tenant, slug: str) -> Procedure:
    procedure = await _find_procedure(session, owner, slug)
    if procedure is None:
        procedure = Procedure(tenant_id=owner.id, slug=slug, localisation={})
        session.add(procedure)
        await session.flush()
    return procedure


async def _find_procedure(
    session: AsyncSession, owner: tenants.Tenant, slug: str
) -> Procedure | None:
    return await session.scalar(
        select(Procedure).where(Procedure.tenant_id == owner.id, Procedure.slug == slug)
    )


async def _latest_version(session: AsyncSession, procedure: Procedure) -> ProcedureVersion | None:
    newest = await session.scalar(
        select(func.max(ProcedureVersion.version)).where(
            ProcedureVersion.tenant_id == procedure.tenant_id,
            ProcedureVersion.procedure_id == procedure.id,
        )
    )
    return None if newest is None else await _version(session, procedure, newest)


async def _version(session: AsyncSession, procedure: Procedure, version: int) -> ProcedureVersion:
    found = await session.get(ProcedureVersion, (procedure.tenant_id, procedure.id, version))
    if found is None:
        raise NotFound(
            "There is no version {version} of this procedure.", field="version", version=version
        )
    return found


async def _template_of(session: AsyncSession, procedure: Procedure) -> Procedure:
    template = await session.get(
        Procedure, (procedure.template_tenant_id, procedure.template_procedure_id)
    )
    if template is None:
        raise NotFound("The template this procedure adopted no longer exists.", field="template")
    return template


def _stored(definition: Definition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)
