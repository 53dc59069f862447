"""Staff manage a body's webhooks: add one (its secret shown once), deactivate one, and read
the delivery log of a real receiver's answers."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.settings import Settings
from madoguchi.submissions import webhooks
from tests.staff.support import LANGUAGES, check_page, checked, csrf_of, token
from tests.submissions.export_support import committed, said, submit_opinion
from tests.support.html import Page, get_page

HOOKS = "/staff/bodies/soumu/webhooks"
RECEIVER = "https://receiver.example.org/madoguchi"


def add(staff: TestClient, url: str, language: str = "ja") -> tuple[int, Page]:
    staff.cookies.set("lang", language)
    response = staff.post(
        HOOKS, data={"action": "add", "url": url, "csrf_token": token(staff, HOOKS)}
    )
    return response.status_code, Page(response.text)


def secret_on(page: Page) -> str | None:
    found = page.find_all("code", id="secret")
    return found[0].text if found else None


def test_a_webhook_is_added_and_its_secret_is_shown_only_once(staff: TestClient) -> None:
    status, page = add(staff, RECEIVER)

    assert status == 200
    secret = secret_on(page)
    assert secret is not None and secret.startswith("whsec_")
    _, again = get_page(staff, HOOKS)
    assert secret_on(again) is None
    assert secret not in again.root.text
    row = next(tr for tr in again.main.find_all("tr") if RECEIVER in tr.text)
    assert said("Active") in row.text


def test_the_page_with_the_secret_is_never_cached(staff: TestClient) -> None:
    response = staff.post(
        HOOKS, data={"action": "add", "url": RECEIVER, "csrf_token": token(staff, HOOKS)}
    )
    assert response.headers["cache-control"] == "no-store"
    assert "whsec_" not in str(response.url)


def test_a_bad_address_is_shown_beside_its_field_and_kept(staff: TestClient) -> None:
    status, page = add(staff, "ftp://files.example.org/drop", "en")

    assert status == 422
    assert page.find("div", class_="error-summary").find("a").attrs["href"] == "#url"
    field = page.find("input", id="url")
    assert field.attrs["value"] == "ftp://files.example.org/drop"
    assert field.attrs["aria-invalid"] == "true"
    assert secret_on(page) is None
    assert not page.main.find_all("tbody")  # nothing was added


def test_a_webhook_is_deactivated(staff: TestClient) -> None:
    add(staff, RECEIVER)
    _, page = get_page(staff, HOOKS)
    form = next(f for f in page.main.find_all("form") if f.find_all("input", value="deactivate"))
    hook_id = form.find("input", name="webhook").attrs["value"]

    response = staff.post(
        HOOKS, data={"action": "deactivate", "webhook": hook_id, "csrf_token": csrf_of(page)}
    )

    assert response.status_code == 200  # after the redirect to the list
    assert response.url.path == HOOKS
    listed = Page(response.text)
    row = next(tr for tr in listed.main.find_all("tr") if RECEIVER in tr.text)
    assert said("Deactivated") in row.text
    assert not row.find_all("form")


def test_another_body_cannot_deactivate_this_one(staff: TestClient) -> None:
    add(staff, RECEIVER)
    _, page = get_page(staff, HOOKS)
    hook_id = page.main.find("input", name="webhook").attrs["value"]
    sapporo = "/staff/bodies/011002/webhooks"

    response = staff.post(
        sapporo, data={"action": "deactivate", "webhook": hook_id, "csrf_token": csrf_of(page)}
    )

    assert response.status_code == 404
    _, after = get_page(staff, HOOKS)
    assert after.main.find_all("input", name="webhook")  # still active, still deactivatable
    bad = staff.post(
        HOOKS, data={"action": "deactivate", "webhook": "nonsense", "csrf_token": csrf_of(page)}
    )
    assert bad.status_code == 404


async def _deliver(database_url: str, settings: Settings) -> None:
    """One round of the delivery job, as the server's background loop runs it."""
    engine = create_engine(database_url)
    try:
        async with httpx.AsyncClient() as http:
            await webhooks.deliver_due(
                create_session_factory(engine), http, settings, dt.datetime.now(dt.UTC)
            )
    finally:
        await engine.dispose()


async def test_the_delivery_log_shows_each_attempt(
    staff: TestClient, database_url: str, settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("busy", status=503)
    add(staff, httpserver.url_for("/hook"), "en")
    async with committed(database_url) as session:
        reference = (await submit_opinion(session, "山田 花子")).reference

    row = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the server's own loop may make the attempt first
        await _deliver(database_url, settings)
        _, page = get_page(staff, HOOKS, "en")
        row = next(tr for tr in page.main.find("table", id="delivery-log").find_all("tr")[1:])
        if "503" in row.text:
            break
    assert row is not None
    assert reference in row.text
    assert "submission.created" in row.text
    cells = {td.attrs["data-label"]: td.text for td in row.find_all("td")}
    assert cells["Status"] == "Waiting"  # it will be tried again
    assert cells["Attempts"] == "1"
    assert cells["Last answer or error"] == "503"
    assert re.fullmatch(r"\d{1,2} \w+ \d{4} \d{2}:\d{2}", cells["Next attempt"])
    link = row.find("a").attrs["href"]
    assert staff.get(link).status_code == 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_webhooks_page_keeps_the_rules(staff: TestClient, language: str) -> None:
    check_page(staff, HOOKS, language)
    status, added = add(staff, RECEIVER, language)
    assert status == 200
    checked(added, language)
    status, refused = add(staff, "nonsense", language)
    assert status == 422
    checked(refused, language)
    check_page(staff, HOOKS, language)
