"""Row-level security on PostgreSQL: every tenant-owned table has it, forced, with policies; the
app's role cannot get around it; and, connected as that role, one tenant's transaction neither
sees nor changes another's rows. (SQLite has no row-level security: the code-level scoping is
tested on both backends in tests/core/test_tenancy.py, and the whole suite runs with the app
connected as the role.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import Base, create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import (
    UnsafeDatabaseRole,
    check_role,
    enter_person,
    enter_platform,
    enter_tenant,
)
from madoguchi.identity import audit
from madoguchi.identity.models import AuditEntry
from madoguchi.migrations import row_security
from madoguchi.procedures.models import Procedure, ProcedureVersion
from madoguchi.submissions import drafts, webhooks
from madoguchi.submissions.models import Draft, SubmissionEvent, Webhook
from madoguchi.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.support.databases import Backend
from tests.support.two_tenants import TwoTenants, fill

PRIVATE_TABLES = (
    "drafts",
    "submissions",
    "submission_events",
    "webhooks",
    "webhook_deliveries",
    "audit_entries",
)


@pytest.fixture(autouse=True)
def _postgresql_only(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite relies on the code's scoping")


@pytest.fixture
def app_url(database_url: str) -> str:
    return Settings(database_url=database_url).resolved_app_database_url()


@pytest.fixture
def data(database_url: str) -> TwoTenants:
    return asyncio.run(fill(database_url))


@asynccontextmanager
async def connected_as(url: str) -> AsyncIterator[AsyncSession]:
    """A session whose transaction is rolled back at the end."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            yield session
            await session.rollback()
    finally:
        await engine.dispose()


async def count(session: AsyncSession, table: str, tenant_id: uuid.UUID | None = None) -> int:
    where = "" if tenant_id is None else " WHERE tenant_id = :tenant"
    query = text(f"SELECT count(*) FROM {table}{where}")
    return int(await session.scalar(query, {"tenant": tenant_id}) or 0)


# --- the meta-test --------------------------------------------------------------------------


def unprotected_tables(connection: Connection) -> list[str]:
    """Tenant-owned tables (with a tenant_id column) without forced row-level security and at
    least one policy."""
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policies p"
            "   WHERE p.schemaname = current_schema() AND p.tablename = c.relname) AS policies"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            "   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
            "               AND a.attname = 'tenant_id' AND NOT a.attisdropped)"
        )
    )
    return sorted(
        name for name, enabled, forced, policies in rows if not (enabled and forced and policies)
    )


async def on_owner(database_url: str, work: Callable[[Connection], Any]) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def test_every_tenant_owned_table_has_forced_row_security_and_a_policy(
    database_url: str,
) -> None:
    tenant_owned = [t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.columns]
    assert {"submissions", "drafts", "procedures", "audit_entries"} <= set(tenant_owned)
    assert await on_owner(database_url, unprotected_tables) == []


async def test_the_meta_test_finds_a_table_left_without_row_security(database_url: str) -> None:
    def add_scratch(connection: Connection) -> list[str]:
        connection.execute(text("CREATE TABLE scratch (tenant_id uuid, id uuid PRIMARY KEY)"))
        return unprotected_tables(connection)

    def secure_scratch(connection: Connection) -> list[str]:
        row_security.secure_tenant_table(connection, "scratch")
        return unprotected_tables(connection)

    assert await on_owner(database_url, add_scratch) == ["scratch"]
    assert await on_owner(database_url, secure_scratch) == []


# --- the role -------------------------------------------------------------------------------


async def test_the_app_role_is_neither_owner_nor_superuser_nor_bypassrls(app_url: str) -> None:
    async with connected_as(app_url) as session:
        row = (
            await session.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole"
                    " FROM pg_roles WHERE rolname = current_user"
                )
            )
        ).one()
        assert tuple(row) == (row_security.DEFAULT_APP_ROLE, False, False, False)
        owners = await session.scalars(
            text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema()")
        )
        assert row_security.DEFAULT_APP_ROLE not in list(owners)
        await check_role(await session.connection())  # raises for an unsafe role


async def test_the_role_check_refuses_a_superuser(database_url: str) -> None:
    async with connected_as(database_url) as session:  # the tests' owner is a superuser
        with pytest.raises(UnsafeDatabaseRole, match="is a superuser"):
            await check_role(await session.connection())


def test_the_app_refuses_to_start_as_the_owner(database_url: str, tmp_path: Any) -> None:
    settings = Settings(
        database_url=database_url,
        app_database_url=database_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
    )
    with (
        pytest.raises(UnsafeDatabaseRole, match="MADOGUCHI_APP_DATABASE_URL"),
        TestClient(create_app(settings)),
    ):
        pass


def test_the_app_refuses_to_start_as_a_role_that_owns_a_table(
    database_url: str, tmp_path: Any
) -> None:
    role = f"madoguchi_test_owner_{uuid.uuid4().hex[:8]}"

    def own_a_table(connection: Connection) -> None:
        connection.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        connection.execute(text("CREATE TABLE owned (id integer)"))
        connection.execute(text(f"ALTER TABLE owned OWNER TO {role}"))

    def drop_it(connection: Connection) -> None:
        connection.execute(text("DROP TABLE owned"))
        connection.execute(text(f"DROP ROLE {role}"))

    asyncio.run(on_owner(database_url, own_a_table))
    try:
        as_owner = make_url(database_url).set(username=role)
        settings = Settings(
            database_url=database_url,
            app_database_url=as_owner.render_as_string(hide_password=False),
            data_dir=tmp_path,
            secret_key=TEST_SECRET,
        )
        with (
            pytest.raises(UnsafeDatabaseRole, match="owns the tables"),
            TestClient(create_app(settings)),
        ):
            pass
    finally:
        asyncio.run(on_owner(database_url, drop_it))


def test_the_app_connects_as_the_app_role(client: TestClient, database_url: str) -> None:
    assert client.get("/readyz").status_code == 200
    url = client.app.state.engine.url  # type: ignore[attr-defined]
    assert url.username == row_security.DEFAULT_APP_ROLE


# --- isolation, connected as the app's role -------------------------------------------------


@pytest.mark.parametrize("table", PRIVATE_TABLES)
async def test_with_tenant_a_entered_tenant_b_is_invisible(
    app_url: str, data: TwoTenants, table: str
) -> None:
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        assert await count(session, table, data.a.tenant_id) > 0
        assert await count(session, table, data.b.tenant_id) == 0
        assert await count(session, table) == await count(session, table, data.a.tenant_id)


async def test_a_draft_version_of_tenant_b_is_invisible_but_its_catalogue_is_not(
    app_url: str, data: TwoTenants
) -> None:
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        drafts_of_b = text(
            "SELECT count(*) FROM procedure_versions WHERE tenant_id = :t AND status = 'draft'"
        )
        assert await session.scalar(drafts_of_b, {"t": data.b.tenant_id}) == 0
        assert await session.scalar(drafts_of_b, {"t": data.a.tenant_id}) == 1
        assert await count(session, "procedures", data.b.tenant_id) == 2  # public catalogue


def foreign_rows(data: TwoTenants) -> dict[str, Any]:
    """A new row of tenant B for each kind, to be refused in tenant A's transaction."""
    b, now = data.b, dt.datetime.now(dt.UTC)
    return {
        "webhooks": insert(Webhook).values(
            tenant_id=b.tenant_id, id=uuid.uuid4(), url="https://x.jp", secret_sealed="x"
        ),
        "drafts": insert(Draft).values(
            tenant_id=b.tenant_id,
            id=uuid.uuid4(),
            procedure_id=b.procedure_id,
            sealed="x",
            updated_at=now,
            expires_at=now,
        ),
        "submission_events": insert(SubmissionEvent).values(
            tenant_id=b.tenant_id,
            id=uuid.uuid4(),
            submission_id=b.submission_id,
            action="forged",
            actor="x",
            details={},
            at=now,
        ),
        "procedures": insert(Procedure).values(
            tenant_id=b.tenant_id, id=uuid.uuid4(), slug="forged", localisation={}
        ),
        "procedure_versions": insert(ProcedureVersion).values(
            tenant_id=b.tenant_id,
            procedure_id=b.own_procedure_id,
            version=99,
            status="draft",
            source="",
            definition={},
        ),
        "audit_entries": insert(AuditEntry).values(
            chain=str(b.tenant_id),
            seq=999,
            at=now,
            actor="x",
            tenant_id=b.tenant_id,
            action="forged",
            details={},
            prev_hash="0" * 64,
            hash="0" * 64,
        ),
    }


@pytest.mark.parametrize(
    "table",
    [
        "webhooks",
        "drafts",
        "submission_events",
        "procedures",
        "procedure_versions",
        "audit_entries",
    ],
)
async def test_rows_of_tenant_b_cannot_be_inserted(
    app_url: str, data: TwoTenants, table: str
) -> None:
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.execute(foreign_rows(data)[table])


CHANGES = {
    "submissions": "status = 'forged'",
    "drafts": "current_page = 'forged'",
    "webhooks": "url = 'https://forged.example'",
    "webhook_deliveries": "status = 'failed'",
    "submission_events": "action = 'forged'",
    "procedures": "slug = 'forged'",
    "procedure_versions": "source = 'forged'",
}


@pytest.mark.parametrize("table", sorted(CHANGES))
async def test_rows_of_tenant_b_cannot_be_updated_or_deleted(
    app_url: str, data: TwoTenants, table: str
) -> None:
    b = {"t": data.b.tenant_id}
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        changed = await session.execute(
            text(f"UPDATE {table} SET {CHANGES[table]} WHERE tenant_id = :t"),
            b,
        )
        deleted = await session.execute(
            text(f"DELETE FROM {table} WHERE tenant_id = :t"),
            b,
        )
        assert (changed.rowcount, deleted.rowcount) == (0, 0)  # type: ignore[attr-defined]
    async with connected_as(app_url) as session:
        await enter_platform(session, "checking that nothing changed")
        assert await count(session, table, data.b.tenant_id) > 0


async def test_a_row_cannot_be_moved_to_another_tenant(app_url: str, data: TwoTenants) -> None:
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.execute(
                update(Webhook)
                .where(Webhook.tenant_id == data.a.tenant_id)
                .values(tenant_id=data.b.tenant_id)
            )


async def test_without_a_tenant_only_the_public_catalogue_is_visible(
    app_url: str, data: TwoTenants
) -> None:
    async with connected_as(app_url) as session:
        for table in PRIVATE_TABLES:
            assert await count(session, table) == 0, table
        assert await count(session, "procedures") > 0
        assert await count(session, "areas") > 0
        statuses = await session.scalars(text("SELECT DISTINCT status FROM procedure_versions"))
        assert list(statuses) == ["published"]


async def test_an_empty_tenant_setting_is_no_tenant_not_an_error(
    app_url: str, data: TwoTenants
) -> None:
    async with connected_as(app_url) as session:
        await session.execute(text("SELECT set_config('madoguchi.tenant_id', '', true)"))
        await session.execute(text("SELECT set_config('madoguchi.platform', 'yes', true)"))
        assert await count(session, "submissions") == 0


async def test_platform_scope_sees_every_tenant(app_url: str, data: TwoTenants) -> None:
    async with connected_as(app_url) as session:
        await enter_platform(session, "a test of platform-wide work")
        for table in PRIVATE_TABLES:
            assert await count(session, table, data.a.tenant_id) > 0, table
            assert await count(session, table, data.b.tenant_id) > 0, table
        assert await count(session, "audit_entries") == 3  # A's, B's and a sign-in


async def test_the_platform_chain_is_seen_only_platform_wide(
    app_url: str, data: TwoTenants
) -> None:
    platform_entries = text("SELECT count(*) FROM audit_entries WHERE tenant_id IS NULL")
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        assert await session.scalar(platform_entries) == 0
        await enter_platform(session, "a test of the platform chain")
        assert await session.scalar(platform_entries) == 1


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"]
)
async def test_the_audit_log_cannot_be_changed_by_the_app(
    app_url: str, data: TwoTenants, statement: str
) -> None:
    async with connected_as(app_url) as session:
        await enter_platform(session, "trying to rewrite history")
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(statement))


async def test_the_app_may_append_to_the_audit_log_and_the_platform_chain(
    app_url: str, data: TwoTenants
) -> None:
    async with connected_as(app_url) as session:
        await enter_tenant(session, data.a.tenant_id)
        await audit.append(session, actor="staff:x", action="read", tenant_id=data.a.tenant_id)
        await audit.append(session, actor="resident:x", action="sign_in")
        await enter_platform(session, "counting what was appended")
        assert await count(session, "audit_entries") == 5


async def test_a_person_sees_their_own_items_at_every_body(app_url: str, data: TwoTenants) -> None:
    async with connected_as(app_url) as session:
        await enter_person(session, data.person_id)
        assert await count(session, "submissions") == 1
        assert await count(session, "drafts") == 1
        assert await count(session, "submissions", data.b.tenant_id) == 1
        assert await count(session, "webhooks") == 0  # only their drafts and submissions
        await enter_person(session, uuid.uuid4())
        assert await count(session, "submissions") == 0


async def test_a_visitor_sees_what_their_email_or_session_names(
    app_url: str, data: TwoTenants
) -> None:
    async with connected_as(app_url) as session:
        await enter_person(session, None, email=f"{data.a.code}@example.jp")
        assert await count(session, "submissions", data.a.tenant_id) == 1
        assert await count(session, "submissions", data.b.tenant_id) == 0
        await enter_person(session, None, remembered=[data.b.draft_id])
        assert await count(session, "drafts") == 1
        assert await count(session, "submissions") == 0


async def test_the_tenant_of_a_submission_is_told_without_its_row(
    app_url: str, data: TwoTenants
) -> None:
    lookup = text("SELECT madoguchi_tenant_of_submission(:id)")
    async with connected_as(app_url) as session:
        assert await session.scalar(lookup, {"id": data.b.submission_id}) == data.b.tenant_id
        assert await session.scalar(lookup, {"id": uuid.uuid4()}) is None
        assert await count(session, "submissions") == 0  # the function set nothing for us


async def test_the_background_jobs_work_as_the_app_role(app_url: str, data: TwoTenants) -> None:
    engine = create_engine(app_url)
    try:
        factory = create_session_factory(engine)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        async with unit_of_work(factory) as session:
            assert await drafts.purge_expired(session, later) == 2  # A's and B's
        settings = Settings(database_url=app_url, secret_key=TEST_SECRET)
        async with httpx.AsyncClient() as client:  # the hooks' port is closed: tried, failed
            tried = await webhooks.deliver_due(factory, client, settings, dt.datetime.now(dt.UTC))
        assert tried == 2
        async with unit_of_work(factory) as session:
            await enter_platform(session, "reading the outcomes")
            errors = await session.scalars(text("SELECT last_error FROM webhook_deliveries"))
            assert all(errors)
    finally:
        await engine.dispose()


async def test_a_role_without_rights_is_refused_outright(app_url: str) -> None:
    async with connected_as(app_url) as session:
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text("TRUNCATE submissions"))
