"""Alembic environment: runs the migrations on an async engine for either backend."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text

from madoguchi.apps.approval import models as _approval_models  # noqa: F401  (registers tables)
from madoguchi.core import attempts as _attempts  # noqa: F401  (registers a table)
from madoguchi.core.db import Base, create_engine, is_sqlite
from madoguchi.identity import models as _identity_models  # noqa: F401  (registers tables)
from madoguchi.migrations import MIGRATION_LOCK, row_security
from madoguchi.procedures import models as _procedure_models  # noqa: F401  (registers tables)
from madoguchi.signatures import models as _signature_models  # noqa: F401  (registers tables)
from madoguchi.submissions import models as _submission_models  # noqa: F401  (registers tables)
from madoguchi.tenants import models as _tenant_models  # noqa: F401  (registers tables)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
    )
    role = context.config.attributes.get("app_role", row_security.DEFAULT_APP_ROLE)
    connection.info[row_security.APP_ROLE_KEY] = role
    with context.begin_transaction():
        _wait_for_other_migrators(connection)
        context.run_migrations()
        if connection.dialect.name == "postgresql":
            # every table there is now, those of later migrations included (see row_security)
            row_security.grant_app_role(connection, role)


def _wait_for_other_migrators(connection: Connection) -> None:
    """Several hosts may start at once on PostgreSQL: one migrates, the others wait, then find
    the work done. The advisory lock is transaction-scoped: released when the migrations commit.
    (SQLite is embedded in one host, where `madoguchi serve` migrates before starting workers.)
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


async def _run_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


asyncio.run(_run_online())
