"""Alembic environment: runs the migrations on an async engine for either backend."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from madoguchi.core.db import Base, create_engine, is_sqlite
from madoguchi.tenants import models as _tenant_models  # noqa: F401  (registers tables)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


asyncio.run(_run_online())
