"""Engines for both backends, and the unit of work."""

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.tenants.models import Tenant


async def test_postgresql_pool_is_sized_from_settings() -> None:
    engine = create_engine(
        "postgresql+asyncpg://nobody@127.0.0.1/none", pool_size=7, max_overflow=3
    )
    try:
        assert engine.pool.size() == 7  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 3  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def rename_sapporo_then_fail(engine: AsyncEngine) -> None:
    async with unit_of_work(create_session_factory(engine)) as session:
        sapporo = await session.scalar(select(Tenant).where(Tenant.code == "011002"))
        assert sapporo is not None
        sapporo.name = "書きかけ"
        await session.flush()
        raise RuntimeError("the request failed after writing")


async def test_a_failed_unit_of_work_leaves_nothing_behind(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(RuntimeError):
            await rename_sapporo_then_fail(engine)
        async with unit_of_work(create_session_factory(engine)) as session:
            name = await session.scalar(select(Tenant.name).where(Tenant.code == "011002"))
        assert name == "札幌市"
    finally:
        await engine.dispose()
