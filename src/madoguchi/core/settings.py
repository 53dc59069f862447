"""All configuration, read once from ``MADOGUCHI_*`` environment variables.

Nothing else in madoguchi reads the environment: take a ``Settings`` from ``get_settings()``.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]
Language = Literal["ja", "en"]
LogFormat = Literal["text", "json"]

MIN_SECRET_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = ""
    default_language: Language = "ja"
    log_format: LogFormat = "text"
    log_level: str = "INFO"
    workers: int = Field(default=1, ge=1)
    # Connections each server process keeps open to PostgreSQL, and how many more it may open
    # at a peak; size them so that workers × (pool + overflow) stays under max_connections.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # Proxies whose X-Forwarded-Proto/-For are trusted (comma-separated addresses, or *).
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # How long a draft is kept after it was last changed; then it is deleted.
    draft_days: int = Field(default=30, ge=1, le=365)
    # The address people reach the site at, for links in emails (default: http://host:port).
    public_url: str = ""
    # Outgoing email. With no SMTP host, development writes each message to the log instead;
    # production refuses to start without one.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "madoguchi <no-reply@madoguchi.localhost>"
    sign_in_link_minutes: int = Field(default=30, ge=5, le=24 * 60)
    # The interim staff credential ([P3] replaces it with officials' accounts). Without a
    # password, development makes one and keeps it in the data folder.
    admin_username: str = "admin"
    admin_password: str = ""

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.environment == "production" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                "MADOGUCHI_SECRET_KEY must be set to at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_mail_and_staff_password(self) -> Settings:
        if self.environment == "production":
            if not self.smtp_host:
                raise ValueError("MADOGUCHI_SMTP_HOST must be set in production")
            if len(self.admin_password) < MIN_SECRET_KEY_LENGTH // 2:
                raise ValueError(
                    "MADOGUCHI_ADMIN_PASSWORD must be set to at least "
                    f"{MIN_SECRET_KEY_LENGTH // 2} characters in production"
                )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'madoguchi.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The configured key; in development one is generated once and kept in the data folder."""
        return self.secret_key or self._kept_secret("secret_key", 48)

    def resolved_admin_password(self) -> str:
        """The configured staff password; in development one is made and kept in the data folder."""
        return self.admin_password or self._kept_secret("admin_password", 18)

    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def _kept_secret(self, name: str, size: int) -> str:
        secret_file = self.data_dir / name
        if not secret_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(size))
            secret_file.chmod(0o600)
        return secret_file.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
