"""Fixtures of the staff page tests: a browser that carries the staff credential."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings


@pytest.fixture
def credential(settings: Settings) -> tuple[str, str]:
    return settings.admin_username, settings.resolved_admin_password()


@pytest.fixture
def staff(client: TestClient, credential: tuple[str, str]) -> TestClient:
    """The test client as a member of staff: every request carries the credential."""
    client.auth = credential
    return client


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore.from_settings(settings)
