"""What the browser tests leave for a person to look at: screenshots and axe reports, in
test-artifacts/ at the root of the work tree (ignored by git)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def artifact_name(request: pytest.FixtureRequest) -> str:
    """The test's name, parameters included, as a safe file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of what the browser shows now."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def save_json(name: str, data: Any) -> Path:
    path = ARTIFACTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
