"""Fixtures every test may use: a database of its own, settings, the app and a client."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.web.app import create_app
from tests.support.databases import Backend, migrated_and_seeded
from tests.support.my_number_watch import MyNumberWatch
from tests.support.people import make_person, signed_in

hypothesis_settings.register_profile("ci", deadline=None, max_examples=200)
hypothesis_settings.load_profile("ci")

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production"


@pytest.fixture(scope="session", autouse=True)
def no_my_number_in_the_logs() -> Iterator[None]:
    """Every record any test logs is watched; one holding a My Number fails the session."""
    watch = MyNumberWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    yield
    root.removeHandler(watch)
    assert not watch.leaks, f"a My Number was logged: {watch.leaks}"


@pytest.fixture(scope="session")
def backend() -> Backend:
    return Backend(admin_url=os.environ.get("MADOGUCHI_TEST_DATABASE_URL") or None)


@pytest.fixture(scope="session")
def template_database(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated and seeded once per test process; tests receive clones of it."""
    url = migrated_and_seeded(backend, tmp_path_factory.mktemp("template"), "template")
    yield url
    backend.drop(url)


@pytest.fixture
def database_url(backend: Backend, template_database: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, with the schema and the reference data."""
    url = backend.clone(template_database, tmp_path, "test")
    yield url
    backend.drop(url)


@pytest.fixture
def empty_database_url(backend: Backend, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    url = backend.new_database(tmp_path, "empty")
    yield url
    backend.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def signed_in_by_card(client: TestClient, database_url: str) -> uuid.UUID:
    """The test client as a resident who signed in with the My Number card (assurance high)."""
    person_id = make_person(database_url)
    signed_in(client, database_url, person_id)
    return person_id


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A unit of work on this test's database, committed when the test ends without error."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as unit:
            yield unit
    finally:
        await engine.dispose()
