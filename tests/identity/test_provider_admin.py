"""Running the provider: registering clients (`madoguchi oidc clients …`), rotating and retiring
signing keys (`madoguchi oidc keys …`), and the pairwise subjects themselves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from madoguchi.core.settings import get_settings
from madoguchi.identity.provider.claims import pairwise_subject
from madoguchi.identity.provider_cli import app as oidc_app
from tests.conftest import TEST_SECRET
from tests.identity.provider_client import (
    RelyingParty,
    card_verified_person,
    new_key,
    public_jwks,
    tokens_for,
)

# Fixtures shared by the provider tests; pytest finds them by name in this module.
from tests.identity.provider_fixtures import (  # noqa: F401
    settings,
)
from tests.support.people import signed_in

runner = CliRunner()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def jwks_file(tmp_path: Path, jwks: object) -> str:
    path = tmp_path / "client.jwks.json"
    path.write_text(json.dumps(jwks), encoding="utf-8")
    return str(path)


def add(tmp_path: Path, jwks: object, *extra: str) -> tuple[int, str]:
    arguments = ["clients", "add", "--name-ja", "函館市電子申請", "--name-en", "Hakodate"]
    arguments += ["--jwks-file", jwks_file(tmp_path, jwks), *extra]
    result = runner.invoke(oidc_app, arguments)
    return result.exit_code, result.stdout + result.stderr


def test_clients_are_added_listed_and_disabled(configured: str, tmp_path: Path) -> None:
    code, output = add(
        tmp_path, public_jwks(new_key()), "--redirect-uri", "https://h.example.jp/cb"
    )
    assert code == 0, output
    client_id = output.strip()
    listed = runner.invoke(oidc_app, ["clients", "list"]).stdout
    assert f"{client_id}\tenabled\th.example.jp\topenid name address birthdate gender" in listed
    assert runner.invoke(oidc_app, ["clients", "disable", client_id]).exit_code == 0
    assert f"{client_id}\tdisabled" in runner.invoke(oidc_app, ["clients", "list"]).stdout
    assert runner.invoke(oidc_app, ["clients", "disable", "nobody"]).exit_code == 2


@pytest.mark.parametrize(
    ("jwks", "uri", "problem"),
    [
        pytest.param(
            {"keys": [new_key().as_dict(is_private=True)]},
            "https://h.example.jp/cb",
            "private key",
            id="private-key",
        ),
        pytest.param({"keys": []}, "https://h.example.jp/cb", "non-empty", id="no-keys"),
        pytest.param(None, "http://h.example.jp/cb", "https", id="plain-http"),
        pytest.param(None, "https://h.example.jp/cb#top", "fragment", id="fragment"),
    ],
)
def test_a_bad_registration_is_refused(
    configured: str, tmp_path: Path, jwks: object, uri: str, problem: str
) -> None:
    code, output = add(tmp_path, jwks or public_jwks(new_key()), "--redirect-uri", uri)
    assert code == 2
    assert problem in output


def test_redirect_uris_on_several_hosts_need_a_sector(configured: str, tmp_path: Path) -> None:
    uris = [
        "--redirect-uri",
        "https://a.example.jp/cb",
        "--redirect-uri",
        "https://b.example.jp/cb",
    ]
    code, output = add(tmp_path, public_jwks(new_key()), *uris)
    assert code == 2 and "sector" in output
    code, output = add(tmp_path, public_jwks(new_key()), *uris, "--sector", "example.jp")
    assert code == 0, output


def test_keys_rotate_with_the_old_one_still_published_until_retired(
    client: TestClient, configured: str, database_url: str
) -> None:
    rp = RelyingParty.register(database_url)
    signed_in(client, database_url, card_verified_person(database_url))
    before = tokens_for(client, rp)["id_token"]
    old_kid = client.get("/oidc/jwks").json()["keys"][0]["kid"]
    rotated = runner.invoke(oidc_app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.stdout.split()[0]
    assert {k["kid"] for k in client.get("/oidc/jwks").json()["keys"]} == {old_kid, new_kid}
    after = tokens_for(client, rp)["id_token"]
    assert rp.verify_id_token(client, after).header["kid"] == new_kid
    assert rp.verify_id_token(client, before).header["kid"] == old_kid  # still verifies
    assert runner.invoke(oidc_app, ["keys", "retire", "--", old_kid]).exit_code == 0
    assert [k["kid"] for k in client.get("/oidc/jwks").json()["keys"]] == [new_kid]
    assert "retired" in runner.invoke(oidc_app, ["keys", "list"]).stdout
    assert runner.invoke(oidc_app, ["keys", "retire", "--", "no-such-kid"]).exit_code == 2


def test_pairwise_subjects_depend_on_sector_person_and_secret() -> None:
    person, other = uuid.uuid4(), uuid.uuid4()
    subject = pairwise_subject("a.example.jp", person, TEST_SECRET)
    assert subject == pairwise_subject("a.example.jp", person, TEST_SECRET)
    assert len(subject) == 43  # base64url of a SHA-256
    others = {
        pairwise_subject("b.example.jp", person, TEST_SECRET),
        pairwise_subject("a.example.jp", other, TEST_SECRET),
        pairwise_subject("a.example.jp", person, TEST_SECRET + "x"),
    }
    assert subject not in others and len(others) == 3
