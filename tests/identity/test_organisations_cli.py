"""`madoguchi organisations add` and `list`, run in-process against a test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.core.settings import get_settings
from tests.identity.organisation_support import audit_of, memberships
from tests.support.people import make_person

runner = CliRunner()
EMAIL = "daihyo@example.co.jp"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def add(*options: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["organisations", "add", *options])
    return result.exit_code, result.stdout, result.stderr


def test_an_operator_registers_a_business_and_lists_it(configured: str) -> None:
    person = make_person(configured, "代表 太郎", email=EMAIL)
    code, out, _ = add(
        "--kind", "business", "--name", "株式会社テスト",
        "--corporate-number", "5-8356-7825-6246", "--representative-email", EMAIL,
    )  # fmt: skip
    assert code == 0, out
    assert memberships(configured, person)[0][1] == "representative"
    [entry] = audit_of(configured, "organisation.registered")
    assert entry.actor == "operator:command-line"
    assert entry.details["member"] == str(person)

    listed = runner.invoke(app, ["organisations", "list"])
    assert listed.exit_code == 0
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[1:] == [
        "business", "5835678256246", "-", "株式会社テスト", EMAIL,
    ]  # fmt: skip

    code, _, err = add(
        "--kind", "business", "--name", "別", "--corporate-number", "5835678256246",
        "--representative-email", EMAIL,
    )  # fmt: skip
    assert code == 2
    assert "corporate_number: An organisation with this number is already registered" in err


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--corporate-number", "1234567890123"], "--corporate-number: This is not a corporate"),
        (["--corporate-number", ""], "--corporate-number: Enter the corporate number"),
        (["--representative-email", "nobody@example.jp"], "Nobody has signed in with this"),
        (["--representative-email", "nobody"], "--representative-email: Enter the whole"),
    ],
)
def test_a_wrong_option_is_named_and_nothing_is_stored(
    configured: str, options: list[str], says: str
) -> None:
    person = make_person(configured, "代表 太郎", email=EMAIL)
    defaults = {
        "--corporate-number": "5835678256246",
        "--representative-email": EMAIL,
        **dict(zip(options[::2], options[1::2], strict=True)),
    }
    arguments = ["--kind", "business", "--name", "株式会社テスト"]
    for option, value in defaults.items():
        arguments += [option, value]
    code, _, err = add(*arguments)
    assert code == 2
    assert says in err
    assert memberships(configured, person) == []
