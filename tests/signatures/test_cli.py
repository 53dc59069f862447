"""`madoguchi seal` and `madoguchi verify`: sealing as a body and checking, on the command line."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.core.settings import get_settings
from tests.signatures.test_sealing import simple_pdf

runner = CliRunner()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "notice.pdf"
    path.write_bytes(simple_pdf("Notice"))
    return path


def test_seal_then_verify_and_an_altered_copy_fails(
    configured: str, plain: Path, tmp_path: Path
) -> None:
    sealed = tmp_path / "sealed.pdf"
    result = runner.invoke(app, ["seal", str(plain), "--tenant", "131016", "-o", str(sealed)])
    assert result.exit_code == 0, result.output
    assert "reference:" in result.output and "/verify/" in result.output
    report = subprocess.run(["pdfsig", str(sealed)], capture_output=True, text=True, check=False)
    assert "Signature is Valid." in report.stdout
    checked = runner.invoke(app, ["verify", str(sealed), "--language", "en"])
    assert checked.exit_code == 0, checked.output
    assert "Signature 1: 千代田区" in checked.output
    assert "by a trusted timestamp" in checked.output
    data = bytearray(sealed.read_bytes())
    data[data.index(b"(anonymous)") + 1] ^= 0x01
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(bytes(data))
    refused = runner.invoke(app, ["verify", str(altered), "--language", "en"])
    assert refused.exit_code == 1
    assert "Not valid" in refused.output and "altered" in refused.output


def test_an_unsigned_pdf_is_not_valid(configured: str, plain: Path) -> None:
    result = runner.invoke(app, ["verify", str(plain), "--language", "en"])
    assert result.exit_code == 1
    assert "The file has no signature or seal." in result.output


def test_bad_input_is_a_clear_error(configured: str, plain: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["verify", str(tmp_path / "none.pdf"), "--language", "en"])
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    text = tmp_path / "note.txt"
    text.write_text("not a pdf")
    out = str(tmp_path / "out.pdf")
    not_pdf = runner.invoke(app, ["seal", str(text), "--tenant", "131016", "-o", out])
    assert not_pdf.exit_code == 2
    assert "error: FILE:" in not_pdf.output and "note.txt" in not_pdf.output
    same = runner.invoke(app, ["seal", str(plain), "--tenant", "131016", "-o", str(plain)])
    assert same.exit_code == 2
    unknown = runner.invoke(app, ["seal", str(plain), "--tenant", "999999", "-o", out])
    assert unknown.exit_code == 2
    assert "999999" in unknown.output
    assert not Path(out).exists()
