"""Fixtures for the signatures tests: a SoftHSM2 token made once per test process."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.core.settings import Settings
from tests.support.softhsm import SoftHsmToken, process_token


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    """This test process's SoftHSM2 token (skipped without SoftHSM2, except in CI)."""
    return process_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def softhsm_settings(softhsm_token: SoftHsmToken, tmp_path: Path) -> Settings:
    """Settings whose new signing keys are made on the SoftHSM2 token."""
    return softhsm_token.settings(tmp_path / "data")
