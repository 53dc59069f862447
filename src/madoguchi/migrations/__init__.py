"""Alembic migrations for every domain, run from code: no alembic.ini, no manual step.

``upgrade`` is what ``madoguchi serve`` and ``madoguchi db upgrade`` call; ``schema_drift``
compares the models with the migrated database so that a test and ``madoguchi db check`` fail
when they disagree.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.apps.approval import models as _approval_models  # noqa: F401  (registers tables)
from madoguchi.core import attempts as _attempts  # noqa: F401  (registers a table)
from madoguchi.core.db import Base, create_engine
from madoguchi.identity import models as _identity_models  # noqa: F401  (registers tables)
from madoguchi.migrations.row_security import DEFAULT_APP_ROLE
from madoguchi.procedures import models as _procedure_models  # noqa: F401  (registers tables)
from madoguchi.signatures import models as _signature_models  # noqa: F401  (registers tables)
from madoguchi.submissions import models as _submission_models  # noqa: F401  (registers tables)
from madoguchi.tenants import models as _tenant_models  # noqa: F401  (registers tables)

SCRIPT_LOCATION = Path(__file__).parent
# The PostgreSQL advisory lock that one migrating process holds while the others wait (env.py).
MIGRATION_LOCK = 0x6D61646F  # "mado"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def upgrade(database_url: str, revision: str = "head", *, app_role: str = DEFAULT_APP_ROLE) -> None:
    """Bring the schema to ``revision``. Safe to call on every start: at head it does nothing
    but give ``app_role`` (the role the app connects as on PostgreSQL) its grants again."""
    config = alembic_config(database_url)
    config.attributes["app_role"] = app_role
    command.upgrade(config, revision)


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    return await connection.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    # Read directly: MigrationContext would log two INFO lines on every readiness probe.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def schema_drift(database_url: str) -> list[Any]:
    """Differences between the models and the database; empty when they agree."""
    return asyncio.run(_schema_drift(database_url))


async def _schema_drift(database_url: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_compare)
    finally:
        await engine.dispose()


def _compare(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def ping(connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT 1"))


def database_revision(database_url: str) -> str | None:
    """The revision of the database at ``database_url`` (synchronous, for commands)."""
    return asyncio.run(_database_revision(database_url))


async def _database_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await current_revision(connection)
    finally:
        await engine.dispose()
