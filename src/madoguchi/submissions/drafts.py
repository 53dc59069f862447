"""Drafts: what an applicant has typed so far, kept on the server, sealed, until it expires.

A draft's whole content is one AES-GCM token (``core.crypto``, purpose ``draft``): the version it
answers, the answers accepted so far, what was typed on a page that did not pass its checks yet,
and the pages visited. The database row shows only ids and times, never what was typed. A My
Number is never kept as typed text, only as the encrypted answer its parser makes.

A draft keeps answering the version it started with, so a version published while someone is
half-way through never changes their questions. Each change pushes ``expires_at`` out by
``draft_days``; ``purge_expired`` (a scheduled job) deletes drafts past it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.core.errors import NotFound
from madoguchi.core.ids import uuid7
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_platform, enter_tenant
from madoguchi.procedures import service as procedures
from madoguchi.submissions.models import Draft

DRAFT_PURPOSE = "draft"
FormValues = dict[str, str | list[str]]

__all__ = [
    "Draft",
    "DraftContent",
    "FormValues",
    "create_draft",
    "find_draft",
    "open_content",
    "purge_expired",
    "seal_content",
    "version_of",
]


@dataclass
class DraftContent:
    """What is sealed inside a draft."""

    # The version answered: its procedure's key (the template's, for an adopted template).
    version_tenant_id: uuid.UUID
    version_procedure_id: uuid.UUID
    version: int
    # Answers accepted so far, typed as the parsers return them, by question id.
    answers: dict[str, Any] = field(default_factory=dict)
    # Per page id: the form fields as typed on a page that has not passed its checks yet.
    typed: dict[str, FormValues] = field(default_factory=dict)
    # Page ids the applicant has completed, in the order first completed.
    visited: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("version_tenant_id", "version_procedure_id"):
            data[key] = str(data[key])
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DraftContent:
        data = json.loads(text)
        return cls(
            version_tenant_id=uuid.UUID(data["version_tenant_id"]),
            version_procedure_id=uuid.UUID(data["version_procedure_id"]),
            version=int(data["version"]),
            answers=dict(data.get("answers", {})),
            typed=dict(data.get("typed", {})),
            visited=list(data.get("visited", [])),
        )


def open_content(draft: Draft, secret: str) -> DraftContent:
    """The content of a draft (``DecryptionError`` if the token was altered or the key changed)."""
    return DraftContent.from_json(decrypt_text(draft.sealed, DRAFT_PURPOSE, secret))


def seal_content(
    draft: Draft, content: DraftContent, secret: str, now: dt.datetime, draft_days: int
) -> None:
    """Seal ``content`` into the draft, and keep the draft ``draft_days`` from now."""
    draft.sealed = encrypt_text(content.to_json(), DRAFT_PURPOSE, secret)
    draft.updated_at = now
    draft.expires_at = now + dt.timedelta(days=draft_days)


async def create_draft(
    session: AsyncSession,
    procedure: procedures.Procedure,
    current: procedures.Current,
    settings: Settings,
    now: dt.datetime,
) -> Draft:
    """A new, empty draft of ``procedure`` answering its current version."""
    await enter_tenant(session, procedure.tenant_id)
    version = current.version
    content = DraftContent(version.tenant_id, version.procedure_id, version.version)
    draft = Draft(tenant_id=procedure.tenant_id, id=uuid7(), procedure_id=procedure.id)
    seal_content(draft, content, settings.resolved_secret_key(), now, settings.draft_days)
    session.add(draft)
    await session.flush()
    return draft


async def find_draft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    draft_id: uuid.UUID,
    now: dt.datetime | None = None,
) -> Draft:
    """One of a tenant's drafts, submitted or not; NotFound when there is none or it expired."""
    moment = now or dt.datetime.now(dt.UTC)
    await enter_tenant(session, tenant_id)
    draft = await session.scalar(
        select(Draft).where(
            Draft.tenant_id == tenant_id, Draft.id == draft_id, Draft.expires_at > moment
        )
    )
    if draft is None:
        raise NotFound("There is no draft at this address, or it has expired.", field="draft")
    return draft


async def version_of(session: AsyncSession, content: DraftContent) -> procedures.ProcedureVersion:
    """The published version a draft answers."""
    key = (content.version_tenant_id, content.version_procedure_id, content.version)
    found = await session.get(procedures.ProcedureVersion, key)
    if found is None:
        raise NotFound("There is no version {version} of this procedure.", version=key[2])
    return found


async def purge_expired(session: AsyncSession, now: dt.datetime) -> int:
    """Delete every draft past its expiry, at every body; how many were deleted."""
    await enter_platform(session, "deleting expired drafts")
    result = await session.execute(delete(Draft).where(Draft.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
