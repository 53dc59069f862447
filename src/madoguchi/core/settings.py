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
from sqlalchemy.engine import make_url

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
    # Sessions end after this long without a request, and this long after sign-in at most.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=7 * 24)
    # My Number card sign-in: the OpenID provider (the Digital Agency's authentication app in
    # production). Empty issuer: the built-in card simulator at <public_url>/card-simulator.
    card_issuer: str = ""
    card_client_id: str = "madoguchi"
    card_client_secret: str = ""
    # PostgreSQL: the URL the running app connects with, as a role that is neither the tables'
    # owner nor BYPASSRLS, so that row-level security applies. Empty: database_url with the user
    # replaced by database_app_role (trust or peer authentication, as on a development machine).
    app_database_url: str = ""
    database_app_role: str = "madoguchi_app"
    # The My Number keys (JSON: the active key id and every key by id, for rotation). Empty:
    # development keeps a generated file in the data folder; production requires one.
    my_number_key_file: Path | None = None
    # Where new signing keys are made: "soft" (software keys sealed under the secret key, in
    # the database) or "pkcs11" (a token such as an HSM: the module's path, the token's label and
    # the user PIN). Keys made earlier by either backend keep working.
    signing_keys: Literal["soft", "pkcs11"] = "soft"
    pkcs11_module: str = ""
    pkcs11_token_label: str = ""
    pkcs11_pin: str = ""

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.environment == "production" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                "MADOGUCHI_SECRET_KEY must be set to at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_mail(self) -> Settings:
        if self.environment == "production" and not self.smtp_host:
            raise ValueError("MADOGUCHI_SMTP_HOST must be set in production")
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

    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def _kept_secret(self, name: str, size: int) -> str:
        secret_file = self.data_dir / name
        if not secret_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(size))
            secret_file.chmod(0o600)
        return secret_file.read_text().strip()

    def resolved_card_client_secret(self) -> str:
        """The card provider's client secret; without one (the built-in simulator, in
        development) one is made and kept in the data folder."""
        return self.card_client_secret or self._kept_secret("card_client_secret", 32)

    def resolved_app_database_url(self) -> str:
        """The URL the running app connects with. On PostgreSQL: ``app_database_url``, or else
        ``database_url`` with its user replaced by ``database_app_role`` (and no password:
        trust or peer authentication). On SQLite: the database URL itself. Migrations and
        commands keep ``resolved_database_url`` (the tables' owner)."""
        if self.app_database_url:
            return self.app_database_url
        owner_url = self.resolved_database_url()
        url = make_url(owner_url)
        if url.get_backend_name() != "postgresql":
            return owner_url
        as_app = url._replace(username=self.database_app_role, password=None)
        return as_app.render_as_string(hide_password=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
