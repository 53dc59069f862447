"""The staff pages answer only to officials of the body in their path, with the role each page
needs, and their forms only to our own pages. (Every route × every role against another body's
objects: tests/staff/test_isolation_matrix.py.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from madoguchi.identity.models.officials import OfficialRole
from tests.support.html import Page
from tests.support.officials import signed_in_official
from tests.support.people import make_person, signed_in

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
    BODY + "/officials",
    PROCEDURE + "/versions",
    PROCEDURE + "/versions/draft",
    BODY + "/procedures/from-excel",
]
FORMS = [
    BODY + "/webhooks",
    BODY + "/officials",
    PROCEDURE + "/versions/1/publish",
    PROCEDURE + "/versions/1/make-current",
    PROCEDURE + "/versions/draft",
    BODY + "/procedures/from-excel",
]
# The least role of each page; a role below it is refused.
LEAST_ROLE = {
    BODY: OfficialRole.VIEWER,
    PROCEDURE + "/submissions": OfficialRole.VIEWER,
    PROCEDURE + "/submissions.csv": OfficialRole.CASEWORKER,
    PROCEDURE + "/versions": OfficialRole.VIEWER,
    PROCEDURE + "/versions/draft": OfficialRole.SUPERVISOR,
    BODY + "/procedures/from-excel": OfficialRole.SUPERVISOR,
    BODY + "/webhooks": OfficialRole.ADMINISTRATOR,
    BODY + "/officials": OfficialRole.ADMINISTRATOR,
}


@pytest.mark.parametrize("url", PAGES)
def test_nobody_signed_in_is_sent_to_sign_in(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=" + url


def test_the_way_back_keeps_the_query(client: TestClient) -> None:
    response = client.get(PROCEDURE + "/submissions?q=山田&page=2", follow_redirects=False)
    assert response.headers["location"].startswith("/sign-in?next=/staff/bodies/soumu/")
    assert "page%3D2" in response.headers["location"]


@pytest.mark.parametrize("url", FORMS)
def test_no_form_is_taken_from_nobody(client: TestClient, url: str) -> None:
    response = client.post(url, data={"url": "https://example.org/hook"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("url", PAGES)
def test_a_resident_who_is_no_official_is_refused(
    client: TestClient, database_url: str, url: str
) -> None:
    signed_in(client, database_url, make_person(database_url))
    response = client.get(url)
    assert response.status_code == 403
    assert "<html" in response.text  # a friendly page, not a bare status


@pytest.mark.parametrize("url", PAGES[1:])
def test_an_official_of_another_body_is_refused(
    client: TestClient, database_url: str, url: str
) -> None:
    signed_in_official(client, database_url, "011002", OfficialRole.ADMINISTRATOR)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(("url", "least"), LEAST_ROLE.items())
def test_each_page_needs_its_role(
    client: TestClient, database_url: str, url: str, least: OfficialRole
) -> None:
    roles = list(OfficialRole)
    below = roles[: roles.index(least)]
    person = signed_in_official(client, database_url, "soumu", least)
    assert client.get(url).status_code == 200
    for role in below:
        signed_in_official(client, database_url, "soumu", role)
        assert client.get(url).status_code == 403, (url, role)
    del person


@pytest.mark.parametrize("url", FORMS)
def test_a_form_from_elsewhere_is_refused(staff: TestClient, url: str) -> None:
    staff.get("/staff")  # the browser has a session, but the form does not carry its token
    response = staff.post(url, data={"url": "https://example.org/hook", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "<html" in response.text


def test_the_pages_say_who_is_signed_in_and_as_what(client: TestClient, database_url: str) -> None:
    signed_in_official(client, database_url, "soumu", OfficialRole.CASEWORKER, name="総務 一郎")
    client.cookies.set("lang", "en")
    shown = Page(client.get(BODY).text).find("p", class_="staff-identity").text
    assert "Signed in as" in shown and "総務 一郎" in shown and "Caseworker" in shown
