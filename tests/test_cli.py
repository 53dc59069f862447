"""The `madoguchi` command line, run in-process against a test database."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.core.settings import get_settings
from tests.support.databases import add_stray_table

runner = CliRunner()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def configured_empty(
    monkeypatch: pytest.MonkeyPatch, empty_database_url: str, tmp_path: Path
) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", empty_database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def test_tenants_list_as_json_with_a_kind(configured: str) -> None:
    result = runner.invoke(
        app, ["tenants", "list", "--kind", "designated_city", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 20
    assert rows[0]["name"] == "札幌市"


def test_tenants_list_as_a_table(configured: str) -> None:
    result = runner.invoke(app, ["tenants", "list", "--prefecture", "13", "--q", "千代田"])
    assert result.exit_code == 0, result.output
    assert "131016" in result.stdout
    assert "1 public bodies" in result.stdout


def test_tenants_show(configured: str) -> None:
    result = runner.invoke(app, ["tenants", "show", "011002"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["name"] == "札幌市"
    assert len(body["wards"]) == 10


def test_a_bad_code_is_a_clear_error_and_exit_status_2(configured: str) -> None:
    result = runner.invoke(app, ["tenants", "show", "011003"])
    assert result.exit_code == 2
    assert "code:" in result.stderr and "check digit" in result.stderr


def test_an_unknown_kind_is_refused_by_the_option(configured: str) -> None:
    result = runner.invoke(app, ["tenants", "list", "--kind", "castle"])
    assert result.exit_code == 2
    assert "castle" in result.stderr


def test_upgrade_seed_and_check_on_an_empty_database(configured_empty: str) -> None:
    failing = runner.invoke(app, ["db", "check"])
    assert failing.exit_code == 1
    assert "database at None" in failing.stderr
    outputs = {}
    for command in (["db", "upgrade"], ["seed"], ["seed"], ["db", "check"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
        outputs[command[-1]] = result.stderr
    assert "1805 public bodies and 171 wards loaded" in outputs["seed"]
    assert "models and migrations agree" in outputs["check"]
    listed = runner.invoke(app, ["tenants", "list", "--format", "json"])
    assert len(json.loads(listed.stdout)) == 1805


def test_db_check_reports_drift(configured: str) -> None:
    add_stray_table(configured)
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 1
    assert "disagree" in result.stderr
