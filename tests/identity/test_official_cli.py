"""`madoguchi officials invite` and `madoguchi platform-admins add`: the first administrator of a
fresh installation, made from the server's command line, then signing in through the link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.core.settings import get_settings
from tests.staff.support import csrf_of
from tests.support.html import Page

runner = CliRunner()
SAPPORO_INVITE = ["officials", "invite", "--body", "011002", "--email", "x@example.jp"]
LINK = re.compile(r"https?://\S+?(/(?:staff/invitations|sign-in)/[A-Za-z0-9._-]+)")


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "cli-data"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def follow(client: TestClient, output: str) -> int:
    (path,) = LINK.findall(output)
    page = client.get(path)
    assert page.status_code == 200, page.text
    pressed = client.post(
        path, data={"csrf_token": csrf_of(Page(page.text))}, follow_redirects=False
    )
    return pressed.status_code


def test_the_first_administrator_of_a_body_is_invited_from_the_command_line(
    configured: str, client: TestClient
) -> None:
    result = runner.invoke(
        app,
        [
            "officials",
            "invite",
            "--body",
            "011002",
            "--email",
            "x@example.jp",
            "--role",
            "administrator",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "札幌市 (011002) as administrator" in result.stdout
    assert follow(client, result.stdout) == 303
    assert client.get("/staff/bodies/011002/officials").status_code == 200
    assert client.get("/staff/bodies/012025").status_code == 403
    listed = runner.invoke(app, ["officials", "list", "--body", "011002"])
    assert listed.exit_code == 0 and "administrator\tx@example.jp" in listed.stdout


def test_a_bad_body_or_role_or_address_is_a_clear_error(configured: str) -> None:
    unknown = runner.invoke(
        app, ["officials", "invite", "--body", "999999", "--email", "x@example.jp"]
    )
    assert unknown.exit_code == 2 and "code" in unknown.output
    role = runner.invoke(
        app,
        ["officials", "invite", "--body", "011002", "--email", "x@example.jp", "--role", "owner"],
    )
    assert role.exit_code == 2
    address = runner.invoke(app, ["officials", "invite", "--body", "011002", "--email", "x@"])
    assert address.exit_code == 2 and "email" in address.output


def test_a_platform_administrator_is_made_and_signs_in_with_the_printed_link(
    configured: str, client: TestClient
) -> None:
    result = runner.invoke(app, ["platform-admins", "add", "--email", "ops@example.jp"])
    assert result.exit_code == 0, result.output
    assert follow(client, result.stdout) == 303
    assert client.get("/staff/bodies/012025/officials").status_code == 200
    assert client.get("/staff/bodies/011002/webhooks").status_code == 200
