"""Fixtures of the OpenID provider tests: the site at the issuer's address, a registered relying
party and a card-verified person signed in. Test modules import them by name."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.settings import Settings
from tests.identity.provider_client import (
    RelyingParty,
    card_verified_person,
    provider_settings,
)
from tests.support.people import signed_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return provider_settings(settings)


@pytest.fixture
def rp(database_url: str) -> RelyingParty:
    return RelyingParty.register(database_url)


@pytest.fixture
def person(client: TestClient, database_url: str) -> uuid.UUID:
    person_id = card_verified_person(database_url)
    signed_in(client, database_url, person_id)
    return person_id
