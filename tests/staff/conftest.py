"""Fixtures of the staff page tests: a browser signed in as an official.

``staff`` is an administrator of the bodies the tests work with (総務省 ``soumu``, 千代田区
``131016``, 札幌市 ``011002``); ``platform_admin`` may open every body. Narrower roles and other
bodies are made in the tests that are about them (``tests.support.officials``).
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from tests.support.officials import make_platform_administrator, signed_in_official
from tests.support.people import signed_in

STAFF_BODIES = ("soumu", "131016", "011002")


@pytest.fixture
def staff_person(client: TestClient, database_url: str) -> uuid.UUID:
    return signed_in_official(client, database_url, STAFF_BODIES, OfficialRole.ADMINISTRATOR)


@pytest.fixture
def staff(client: TestClient, staff_person: uuid.UUID) -> TestClient:
    """The test client signed in as an administrator of the test bodies."""
    return client


@pytest.fixture
def platform_admin(client: TestClient, database_url: str) -> TestClient:
    signed_in(client, database_url, make_platform_administrator(database_url))
    return client


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore.from_settings(settings)
