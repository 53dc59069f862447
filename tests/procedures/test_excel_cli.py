"""`madoguchi procedures from-xlsx`: a draft from the command line, notes on stderr."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.procedures.loader import load_definition
from tests.procedures import templates

runner = CliRunner()


def test_from_xlsx_writes_the_yaml_and_prints_the_notes(tmp_path: Path) -> None:
    source, out = tmp_path / "iken.xlsx", tmp_path / "iken.yaml"
    source.write_bytes(templates.public_comment())

    result = runner.invoke(
        app, ["procedures", "from-xlsx", str(source), "--owner", "000001", "-o", str(out)]
    )

    assert result.exit_code == 0, result.output
    definition = load_definition(out.read_text(encoding="utf-8"))
    assert definition.slug == "iken"
    assert "ご意見" in out.read_text(encoding="utf-8")  # Japanese kept readable
    assert "note: 意見提出様式!F3: 2026 is not a label; skipped" in result.stderr
    assert "6 questions drafted" in result.stderr
    assert result.stdout == ""


def test_from_xlsx_prints_the_yaml_without_an_output(tmp_path: Path) -> None:
    source = tmp_path / "list.xlsx"
    source.write_bytes(templates.event_registration())

    result = runner.invoke(
        app, ["procedures", "from-xlsx", str(source), "--owner", "131016", "--slug", "event"]
    )

    assert result.exit_code == 0, result.output
    assert load_definition(result.stdout).slug == "event"


def test_from_xlsx_fails_clearly_on_a_file_that_is_not_xlsx(tmp_path: Path) -> None:
    source = tmp_path / "opinions.csv"
    source.write_text("氏名,ご意見\n", encoding="utf-8")

    result = runner.invoke(app, ["procedures", "from-xlsx", str(source), "--owner", "000001"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: file: not a readable .xlsx workbook")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_from_xlsx_fails_clearly_on_a_missing_file_or_a_bad_output(tmp_path: Path) -> None:
    source = tmp_path / "form.xlsx"
    source.write_bytes(templates.public_comment())

    missing = runner.invoke(
        app, ["procedures", "from-xlsx", str(tmp_path / "nope.xlsx"), "--owner", "000001"]
    )
    unwritable = runner.invoke(
        app,
        ["procedures", "from-xlsx", str(source), "--owner", "1", "-o", str(tmp_path / "no/x.yaml")],
    )

    assert (missing.exit_code, unwritable.exit_code) == (2, 2)
    assert missing.stderr.startswith("error: file: cannot read")
    assert unwritable.stderr.startswith("error: output: cannot write")
