"""The staff pages answer only to the staff credential, and their forms only to our own pages."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

BODY = "/staff/bodies/soumu"
SOME_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
PROCEDURE = BODY + "/procedures/metaverse-consultation"
PAGES = [
    "/staff",
    BODY,
    PROCEDURE + "/submissions",
    f"{BODY}/submissions/{SOME_ID}",
    f"{BODY}/submissions/{SOME_ID}/files/{'0' * 64}",
    BODY + "/webhooks",
    PROCEDURE + "/versions",
    PROCEDURE + "/versions/draft",
    BODY + "/procedures/from-excel",
]
FORMS = [
    BODY + "/webhooks",
    PROCEDURE + "/versions/1/publish",
    PROCEDURE + "/versions/1/make-current",
    PROCEDURE + "/versions/draft",
    BODY + "/procedures/from-excel",
]


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.mark.parametrize("url", PAGES)
def test_without_the_credential_the_browser_is_asked_for_it(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Basic realm="madoguchi staff"')
    assert "<html" in response.text  # a friendly page, not a bare status


@pytest.mark.parametrize("url", FORMS)
def test_no_form_is_taken_without_the_credential(client: TestClient, url: str) -> None:
    response = client.post(url, data={"url": "https://example.org/hook"})
    assert response.status_code == 401


def test_a_wrong_password_or_user_is_refused(
    client: TestClient, credential: tuple[str, str]
) -> None:
    user, password = credential
    for headers in (
        basic(user, password + "x"),
        basic("someone", password),
        basic(user, ""),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": f"Bearer {password}"},
    ):
        response = client.get("/staff", headers=headers)
        assert response.status_code == 401
        assert "www-authenticate" in response.headers
    assert client.get("/staff", headers=basic(user, password)).status_code == 200


@pytest.mark.parametrize("url", FORMS)
def test_a_form_from_elsewhere_is_refused(staff: TestClient, url: str) -> None:
    staff.get("/staff")  # the browser has a session, but the form does not carry its token
    response = staff.post(url, data={"url": "https://example.org/hook", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "<html" in response.text
