"""Drafts: sealed on the server, answering the version they started with, purged when expired."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import DecryptionError
from madoguchi.core.errors import NotFound
from madoguchi.core.ids import uuid7
from madoguchi.core.settings import Settings
from madoguchi.procedures import service as procedures
from madoguchi.submissions import drafts
from madoguchi.submissions.models import Draft

NOW = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)


async def _consultation(session: AsyncSession) -> tuple[procedures.Procedure, procedures.Current]:
    procedure = await procedures.get_procedure(session, "soumu", "metaverse-consultation")
    return procedure, await procedures.current(session, procedure)


async def test_a_new_draft_answers_the_current_version_and_is_empty(
    session: AsyncSession, settings: Settings
) -> None:
    procedure, current = await _consultation(session)
    draft = await drafts.create_draft(session, procedure, current, settings, NOW)
    content = drafts.open_content(draft, settings.resolved_secret_key())
    assert (content.version_tenant_id, content.version_procedure_id, content.version) == (
        current.version.tenant_id,
        current.version.procedure_id,
        current.version.version,
    )
    assert (content.answers, content.typed, content.visited) == ({}, {}, [])
    assert draft.expires_at == NOW + dt.timedelta(days=settings.draft_days)
    assert (await drafts.version_of(session, content)).version == current.version.version


async def test_what_is_typed_is_sealed_never_stored_in_clear(
    session: AsyncSession, settings: Settings
) -> None:
    procedure, current = await _consultation(session)
    draft = await drafts.create_draft(session, procedure, current, settings, NOW)
    content = drafts.open_content(draft, settings.resolved_secret_key())
    content.answers["name"] = "山田 花子"
    content.typed["opinions"] = {"opinion_safety": "秘密の意見"}
    later = NOW + dt.timedelta(hours=1)
    drafts.seal_content(draft, content, settings.resolved_secret_key(), later, 7)
    await session.flush()
    row = (await session.execute(text("SELECT * FROM drafts"))).one()
    assert not any("山田" in str(cell) or "秘密" in str(cell) for cell in row)
    reopened = drafts.open_content(draft, settings.resolved_secret_key())
    assert reopened.answers == {"name": "山田 花子"}
    assert reopened.typed == {"opinions": {"opinion_safety": "秘密の意見"}}
    assert (draft.updated_at, draft.expires_at) == (later, later + dt.timedelta(days=7))
    with pytest.raises(DecryptionError):
        drafts.open_content(draft, "another-secret-that-is-long-enough-to-use")


async def test_find_draft_looks_within_one_tenant_and_refuses_expired_ones(
    session: AsyncSession, settings: Settings
) -> None:
    procedure, current = await _consultation(session)
    draft = await drafts.create_draft(session, procedure, current, settings, NOW)
    found = await drafts.find_draft(session, procedure.tenant_id, draft.id, now=NOW)
    assert found is draft
    with pytest.raises(NotFound):
        await drafts.find_draft(session, uuid7(), draft.id, now=NOW)
    with pytest.raises(NotFound):
        await drafts.find_draft(session, procedure.tenant_id, uuid7(), now=NOW)
    expired_at = draft.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(NotFound):
        await drafts.find_draft(session, procedure.tenant_id, draft.id, now=expired_at)


async def test_a_submitted_draft_is_still_found(session: AsyncSession, settings: Settings) -> None:
    procedure, current = await _consultation(session)
    draft = await drafts.create_draft(session, procedure, current, settings, NOW)
    draft.submission_id = uuid7()
    await session.flush()
    found = await drafts.find_draft(session, procedure.tenant_id, draft.id, now=NOW)
    assert found.submission_id == draft.submission_id


async def test_purge_expired_deletes_only_drafts_past_their_expiry(
    session: AsyncSession, settings: Settings
) -> None:
    procedure, current = await _consultation(session)
    old = await drafts.create_draft(session, procedure, current, settings, NOW)
    fresh = await drafts.create_draft(session, procedure, current, settings, NOW)
    content = drafts.open_content(fresh, settings.resolved_secret_key())
    touched = NOW + dt.timedelta(days=10)
    drafts.seal_content(fresh, content, settings.resolved_secret_key(), touched, 30)
    await session.flush()
    purge_at = old.expires_at + dt.timedelta(minutes=1)
    assert await drafts.purge_expired(session, purge_at) == 1
    left = (await session.scalars(select(Draft.id))).all()
    assert left == [fresh.id]
    assert await drafts.purge_expired(session, purge_at) == 0
