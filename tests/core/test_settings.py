"""Configuration from MADOGUCHI_* environment variables."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from madoguchi.core.settings import Settings


def test_defaults_need_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert (settings.host, settings.port, settings.default_language) == ("127.0.0.1", 8000, "ja")
    assert settings.resolved_database_url() == f"sqlite+aiosqlite:///{tmp_path}/data/madoguchi.db"


def test_everything_comes_from_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", "postgresql+asyncpg://db/madoguchi")
    monkeypatch.setenv("MADOGUCHI_PORT", "9000")
    monkeypatch.setenv("MADOGUCHI_HOST", "0.0.0.0")
    monkeypatch.setenv("MADOGUCHI_DEFAULT_LANGUAGE", "en")
    settings = Settings()
    assert settings.resolved_database_url() == "postgresql+asyncpg://db/madoguchi"
    assert (settings.host, settings.port, settings.default_language) == ("0.0.0.0", 9000, "en")


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.resolved_secret_key()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path / "data").resolved_secret_key() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_long_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="MADOGUCHI_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("MADOGUCHI_SECRET_KEY", "s" * 40)
    with pytest.raises(ValidationError, match="MADOGUCHI_SMTP_HOST"):
        Settings()
    monkeypatch.setenv("MADOGUCHI_SMTP_HOST", "mail.example.jp")
    assert Settings().is_production


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MADOGUCHI_PORT", "99999"),
        ("MADOGUCHI_DEFAULT_LANGUAGE", "fr"),
        ("MADOGUCHI_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("MADOGUCHI_").lower()):
        Settings()


def test_pool_and_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_DB_POOL_SIZE", "20")
    monkeypatch.setenv("MADOGUCHI_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("MADOGUCHI_FORWARDED_ALLOW_IPS", "10.0.0.2")
    settings = Settings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 0)
    assert settings.forwarded_allow_ips == "10.0.0.2"
