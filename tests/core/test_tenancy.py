"""The tenant of a transaction (core.tenancy) and the code-level scoping of every service that
reads or writes a tenant's rows, on both backends. (Row-level security itself, PostgreSQL's
second line, is tested in tests/test_row_security.py.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.errors import NotFound
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import Scope, enter_person, enter_platform, enter_tenant, scope_of
from madoguchi.submissions import drafts, queries, service, webhooks
from tests.support.two_tenants import TwoTenants, fill

A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on the owner's connection that the test commits or not itself."""
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
def data(database_url: str) -> TwoTenants:
    return asyncio.run(fill(database_url))


async def settings_seen(db: AsyncSession) -> tuple[str | None, str | None, str | None]:
    """The transaction's settings as PostgreSQL holds them (None on SQLite)."""
    if db.get_bind().dialect.name != "postgresql":
        return None, None, None
    row = (
        await db.execute(
            text(
                "SELECT current_setting('madoguchi.tenant_id', true),"
                " current_setting('madoguchi.platform', true),"
                " current_setting('madoguchi.person_id', true)"
            )
        )
    ).one()
    return row[0] or "", row[1] or "", row[2] or ""


def on_postgresql(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


async def test_entering_sets_the_scope_of_the_transaction(db: AsyncSession) -> None:
    person = uuid.uuid4()
    await enter_tenant(db, A)
    assert scope_of(db) == Scope(tenant_id=A)
    await enter_person(db, person)
    assert scope_of(db) == Scope(tenant_id=A, person_id=person)
    if on_postgresql(db):
        assert await settings_seen(db) == (str(A), "", str(person))
    await enter_platform(db, "a test")
    assert scope_of(db).platform and scope_of(db).tenant_id is None
    if on_postgresql(db):
        assert await settings_seen(db) == ("", "on", str(person))
    await enter_tenant(db, B)  # switching from platform-wide work to one tenant
    assert scope_of(db) == Scope(tenant_id=B, person_id=person)
    if on_postgresql(db):
        assert await settings_seen(db) == (str(B), "", str(person))


async def test_the_scope_ends_with_the_transaction(db: AsyncSession) -> None:
    await enter_tenant(db, A)
    await db.commit()
    assert scope_of(db) == Scope()
    if on_postgresql(db):
        assert await settings_seen(db) == ("", "", "")
    await enter_tenant(db, A)  # entered again: set again, not taken as already set
    if on_postgresql(db):
        assert await settings_seen(db) == (str(A), "", "")
    await db.rollback()
    assert scope_of(db) == Scope()


async def test_a_savepoint_inherits_the_scope_and_rolled_back_takes_back_its_own(
    db: AsyncSession,
) -> None:
    await enter_tenant(db, A)
    savepoint = await db.begin_nested()
    assert scope_of(db).tenant_id == A  # inherited
    await enter_tenant(db, B)
    assert scope_of(db).tenant_id == B
    await savepoint.rollback()
    assert scope_of(db).tenant_id == A
    if on_postgresql(db):
        assert await settings_seen(db) == (str(A), "", "")
    await enter_tenant(db, B)
    if on_postgresql(db):
        assert await settings_seen(db) == (str(B), "", "")


async def test_after_a_savepoint_released_entering_sets_the_scope_again(db: AsyncSession) -> None:
    await enter_tenant(db, A)
    async with db.begin_nested():
        await enter_tenant(db, B)
    # PostgreSQL keeps what a released savepoint set; entering A again must not trust the record
    await enter_tenant(db, A)
    assert scope_of(db).tenant_id == A
    if on_postgresql(db):
        assert await settings_seen(db) == (str(A), "", "")


def test_the_app_connects_as_the_app_role_on_postgresql() -> None:
    owner = "postgresql+asyncpg://owner:secret@db.example:5432/madoguchi"
    derived = Settings(database_url=owner).resolved_app_database_url()
    assert derived == "postgresql+asyncpg://madoguchi_app@db.example:5432/madoguchi"
    renamed = Settings(database_url=owner, database_app_role="counter")
    assert renamed.resolved_app_database_url().startswith("postgresql+asyncpg://counter@")
    given = "postgresql+asyncpg://app:pw@db.example/madoguchi"
    assert Settings(database_url=owner, app_database_url=given).resolved_app_database_url() == given
    sqlite = "sqlite+aiosqlite:////tmp/x.db"
    assert Settings(database_url=sqlite).resolved_app_database_url() == sqlite


# --- every service names its tenant ------------------------------------------------------


async def test_a_draft_is_found_only_within_its_tenant(db: AsyncSession, data: TwoTenants) -> None:
    with pytest.raises(NotFound):
        await drafts.find_draft(db, data.a.tenant_id, data.b.draft_id)
    found = await drafts.find_draft(db, data.b.tenant_id, data.b.draft_id)
    assert found.id == data.b.draft_id
    assert scope_of(db).tenant_id == data.b.tenant_id


async def test_a_submission_is_found_only_within_its_tenant(
    db: AsyncSession, data: TwoTenants
) -> None:
    with pytest.raises(NotFound):
        await service.get_submission(db, data.b.submission_id, tenant_id=data.a.tenant_id)
    found = await service.get_submission(db, data.b.submission_id, tenant_id=data.b.tenant_id)
    with pytest.raises(NotFound):
        await service.find_by_reference(db, found.reference, data.a.tenant_id)
    assert (await service.list_events(db, found))[0].tenant_id == data.b.tenant_id


async def test_a_submission_by_its_bare_id_enters_its_tenant(
    db: AsyncSession, data: TwoTenants
) -> None:
    found = await service.get_submission(db, data.b.submission_id)
    assert found.tenant_id == data.b.tenant_id
    assert scope_of(db).tenant_id == data.b.tenant_id
    with pytest.raises(NotFound):
        await service.get_submission(db, uuid.uuid4())


async def test_webhooks_are_listed_and_changed_only_within_their_tenant(
    db: AsyncSession, data: TwoTenants
) -> None:
    listed = await webhooks.list_webhooks(db, data.a.tenant_id)
    assert [hook.id for hook in listed] == [data.a.webhook_id]
    with pytest.raises(NotFound):
        await webhooks.deactivate_webhook(db, data.a.tenant_id, data.b.webhook_id)
    deliveries = await webhooks.recent_deliveries(db, data.a.tenant_id)
    assert {delivery.tenant_id for delivery in deliveries} == {data.a.tenant_id}


async def test_a_procedures_submissions_are_listed_only_within_its_tenant(
    db: AsyncSession, data: TwoTenants
) -> None:
    no_filters = queries.Filters()
    foreign, total = await queries.page_of_submissions(
        db, data.a.tenant_id, data.b.procedure_id, no_filters, 1
    )
    assert (foreign, total) == ([], 0)
    own, total = await queries.page_of_submissions(
        db, data.a.tenant_id, data.a.procedure_id, no_filters, 1
    )
    assert total == 1 and own[0].id == data.a.submission_id
    streamed = queries.stream_submissions(db, data.a.tenant_id, data.b.procedure_id, no_filters)
    assert [submission async for submission in streamed] == []
