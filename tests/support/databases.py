"""Test databases on either backend, migrated and seeded once, cloned for every test.

SQLite by default; PostgreSQL when MADOGUCHI_TEST_DATABASE_URL names a server (any database on
it: the tests create and drop their own). Each test gets a database of its own — a copy of the
SQLite file, or ``CREATE DATABASE … TEMPLATE`` — so tests are isolated even from commits.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi import migrations
from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.procedures import examples
from madoguchi.tenants import service as tenants

T = TypeVar("T")


@dataclass
class Backend:
    admin_url: str | None  # None: SQLite

    @property
    def name(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def new_database(self, directory: Path, label: str) -> str:
        """An empty database; returns its SQLAlchemy URL."""
        if self.admin_url is None:
            return f"sqlite+aiosqlite:///{directory / f'{label}.sqlite'}"
        name = f"madoguchi_test_{label}_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{name}"'))
        return _with_database(self.admin_url, name)

    def clone(self, template_url: str, directory: Path, label: str) -> str:
        if self.admin_url is None:
            target = directory / f"{label}.sqlite"
            shutil.copyfile(_sqlite_path(template_url), target)
            return f"sqlite+aiosqlite:///{target}"
        name = f"madoguchi_test_{label}_{uuid.uuid4().hex[:10]}"
        template = make_url(template_url).database
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return _with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        if self.admin_url is None:
            return  # files live in pytest's temporary folders
        name = make_url(url).database
        asyncio.run(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def in_database(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a unit of work of its own on the test's database (it sees what the app
    committed, and commits what it does), also from an async test: then in a thread, since that
    test's loop is busy."""

    async def run() -> T:
        engine = create_engine(database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def migrated_and_seeded(backend: Backend, directory: Path, label: str) -> str:
    url = backend.new_database(directory, label)
    migrations.upgrade(url)
    run_in_unit_of_work(tenants.sync_reference_data, url)
    run_in_unit_of_work(examples.sync_examples, url)
    return url


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq form of a SQLAlchemy PostgreSQL URL, for asyncpg.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def add_stray_table(url: str) -> None:
    """Create a table that no model describes, to show that drift is detected."""

    async def create() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
        finally:
            await engine.dispose()

    asyncio.run(create())
