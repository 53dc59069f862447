"""Health, readiness, security headers and failures that must never leak a trace."""

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from madoguchi.core.db import create_engine
from madoguchi.core.settings import Settings
from madoguchi.web.app import create_app
from tests.conftest import TEST_SECRET


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/", "/api/v1/tenants", "/healthz", "/nope", "/static/madoguchi.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers


def test_hsts_only_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        assert "max-age=" in secure.get("/healthz").headers["strict-transport-security"]


def test_not_ready_when_migrations_are_behind(client: TestClient, database_url: str) -> None:
    async def rewind() -> None:
        engine = create_engine(database_url)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        await engine.dispose()

    asyncio.run(rewind())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "migrations not at head"


@pytest.fixture
def unreachable_app(tmp_path: Path) -> FastAPI:
    missing = tmp_path / "no-such-folder" / "db.sqlite"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{missing}", data_dir=tmp_path, secret_key=TEST_SECRET
    )
    return create_app(settings)


def test_database_down_is_a_clear_503(unreachable_app: FastAPI) -> None:
    with TestClient(unreachable_app, raise_server_exceptions=False) as down:
        ready = down.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "database unreachable"
        api = down.get("/api/v1/tenants")
        assert api.status_code == 503
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["code"] == "service-unavailable"
        page = down.get("/")
        assert page.status_code == 503
        assert "<html" in page.text


def test_an_unexpected_error_is_a_500_without_a_trace(app: FastAPI) -> None:
    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal-error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_a_nul_character_in_the_address_is_refused_clearly(client: TestClient) -> None:
    response = client.get("/api/v1/tenants", params={"q": "札幌\x00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"
    page = client.get("/bodies", params={"q": "\x00"})
    assert page.status_code == 422
