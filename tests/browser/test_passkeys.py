"""Passkeys in the real browser: Chromium's virtual authenticator (through the DevTools
protocol's WebAuthn domain) stands in for a phone's fingerprint reader.

The server is `madoguchi serve` with its public address at ``http://localhost:<port>``: a passkey's
relying party is a domain, never an IP address, so the browser opens the site as localhost. The
same server opened as ``http://127.0.0.1:<port>`` is a page at the wrong origin for it.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, CDPSession, Page, Request, expect

from madoguchi.core.sessions import SESSION_COOKIE
from tests.browser.conftest import open_page
from tests.browser.test_accessibility import describe, run_axe
from tests.support.databases import Backend
from tests.support.people import make_person, signed_in
from tests.support.server import (
    HOST,
    Server,
    free_port,
    madoguchi_command,
    server_environment,
    stop,
    wait_until_ready,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def passkey_server(
    backend: Backend, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    """One server for the module, whose public address is http://localhost:<port>; with its
    database's URL, to make people and card sessions in it."""
    directory = tmp_path_factory.mktemp("passkey-server")
    url = backend.clone(template_database, directory, "passkeys")
    port = free_port()
    log_path = directory / "server.log"
    environment = server_environment(
        directory / "data", url, {"MADOGUCHI_PUBLIC_URL": f"http://localhost:{port}"}
    )
    server = _start(log_path, port, environment)
    try:
        wait_until_ready(server)
        yield Server(f"http://localhost:{port}", server.process, log_path), url
    finally:
        stop(server)
        backend.drop(url)


def _start(log_path: Path, port: int, environment: dict[str, str]) -> Server:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [*madoguchi_command(), "serve", "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    return Server(f"http://{HOST}:{port}", process, log_path)


@pytest.fixture
def page(passkey_server: tuple[Server, str], browser: Browser) -> Iterator[Page]:
    opened = open_page(browser, passkey_server[0])
    opened.goto("/language/en?next=/")  # messages are checked in English
    yield opened
    opened.context.close()


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator that keeps passkeys and verifies the user (as a fingerprint
    reader would), attached to this page's browser context."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return devtools, str(added["authenticatorId"])


def sign_in_by_card(page: Page, database_url: str, base_url: str) -> None:
    """A resident proven by the card, with a browser signed in by the card just now."""
    person_id = make_person(database_url, "佐藤 花子", card_proven_at=dt.datetime.now(dt.UTC))
    with httpx.Client() as jar:
        signed_in(jar, database_url, person_id)  # type: ignore[arg-type]
        token = jar.cookies[SESSION_COOKIE]
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])


def add_a_passkey(page: Page, name: str) -> None:
    page.goto("/account/passkeys")
    page.get_by_label("Name of the passkey (optional)").fill(name)
    page.locator("[data-passkey-add-button]").click()
    expect(page).to_have_url(re.compile(r"/account/passkeys\?added=1$"))
    expect(page.locator("tbody th")).to_have_text([name])


def sign_out(page: Page) -> None:
    """The header's sign-out button (shown once a real sign-in named the person); a session
    made by ``sign_in_by_card`` has no name to show, so its cookie is dropped instead."""
    page.wait_for_load_state()  # a passkey sign-in's script may still be leading to the next page
    button = page.locator("form.sign-out button")
    if button.count():
        button.click()
        expect(page.locator("form.sign-out")).to_have_count(0)
    else:
        page.context.clear_cookies(name=SESSION_COOKIE)


def sign_in_with_passkey(page: Page, next_path: str = "/me") -> None:
    page.goto(f"/sign-in?next={next_path}")
    page.locator("[data-passkey-sign-in-button]").click()


def assert_accessible(page: Page) -> None:
    """axe-core's WCAG 2.1 A/AA rules on the page as it is now."""
    violations = run_axe(page)["violations"]
    assert not violations, describe(violations)


def error_shown(page: Page) -> str:
    box = page.locator("[data-passkey-error]")
    expect(box).to_be_visible()
    return str(box.inner_text())


def test_a_resident_adds_a_passkey_then_signs_in_with_it(
    page: Page, passkey_server: tuple[Server, str]
) -> None:
    server, database_url = passkey_server
    devtools, authenticator_id = virtual_authenticator(page)
    sign_in_by_card(page, database_url, server.base_url)
    add_a_passkey(page, "花子のパソコン")
    assert_accessible(page)
    [credential] = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["isResidentCredential"] is True

    sign_out(page)
    sign_in_with_passkey(page, "/bodies/011002")
    expect(page).to_have_url(re.compile(r"/bodies/011002$"))
    expect(page.locator(".account-email")).to_contain_text("佐藤 花子")


def test_the_browser_refuses_a_passkey_for_a_page_at_another_origin(
    page: Page, passkey_server: tuple[Server, str]
) -> None:
    """Opened at 127.0.0.1, the page receives options for rp id "localhost": Chromium refuses
    with a SecurityError, and the page says what to do."""
    server, _ = passkey_server
    virtual_authenticator(page)
    page.goto(server.base_url.replace("localhost", HOST) + "/sign-in")
    page.locator("[data-passkey-sign-in-button]").click()
    section = page.locator("[data-passkey-sign-in]")
    expected = section.get_attribute("data-message-security")
    assert expected and error_shown(page).endswith(expected)
    expect(page.locator("[data-passkey-error]")).to_be_focused()
    assert_accessible(page)


def test_a_replayed_sign_in_is_refused(page: Page, passkey_server: tuple[Server, str]) -> None:
    server, database_url = passkey_server
    virtual_authenticator(page)
    sign_in_by_card(page, database_url, server.base_url)
    add_a_passkey(page, "phone")
    sign_out(page)

    def the_assertion(request: Request) -> bool:
        return request.method == "POST" and request.url.endswith("/sign-in/passkey")

    with page.expect_request(the_assertion) as posted:
        sign_in_with_passkey(page)
    expect(page).to_have_url(re.compile(r"/me$"))
    body = posted.value.post_data
    assert body and '"authenticatorData"' in body
    token = page.locator("form.sign-out input[name=csrf_token]").get_attribute("value")
    replay: dict[str, Any] = page.evaluate(
        """async ([body, token]) => {
            const response = await fetch("/sign-in/passkey", {
              method: "POST",
              headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
              body,
            });
            return {status: response.status, problem: await response.json()};
        }""",
        [body, token],
    )
    assert replay["status"] == 400
    assert replay["problem"]["code"] == "passkey-refused"


@pytest.mark.skip(
    reason="flaky in CI (about one run in four the second passkey sign-in is answered as a form "
    "from elsewhere: a race between the test's navigations and the page's script, not yet "
    "understood); the same refusal is tested at the protocol level in "
    "tests/identity/test_passkeys.py"
)
def test_a_cloned_passkey_whose_counter_went_back_is_refused(
    page: Page, passkey_server: tuple[Server, str]
) -> None:
    server, database_url = passkey_server
    devtools, authenticator_id = virtual_authenticator(page)
    sign_in_by_card(page, database_url, server.base_url)
    add_a_passkey(page, "key")
    sign_out(page)
    sign_in_with_passkey(page)
    expect(page).to_have_url(re.compile(r"/me$"))
    sign_out(page)

    # A copy of the key made before it was used: the same private key, an older counter.
    [original] = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert original["signCount"] >= 1
    devtools.send(
        "WebAuthn.removeCredential",
        {"authenticatorId": authenticator_id, "credentialId": original["credentialId"]},
    )
    clone = {key: original[key] for key in ("credentialId", "isResidentCredential", "rpId")}
    clone |= {"privateKey": original["privateKey"], "userHandle": original["userHandle"]}
    clone["signCount"] = 0
    devtools.send(
        "WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": clone}
    )

    sign_in_with_passkey(page)
    assert "a copy of it seems to be in use elsewhere" in error_shown(page)
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_done_when_a_new_user_gets_a_card_signs_in_adds_a_passkey_and_signs_in_again(
    page: Page,
) -> None:
    """The issue's journey, end to end: the virtual card of the built-in simulator, then a
    passkey, then the passkey alone."""
    devtools, authenticator_id = virtual_authenticator(page)
    page.goto("/card-simulator/cards/new")
    page.get_by_label("PIN for user authentication (optional)").fill("2580")
    page.get_by_label("Signature password (optional)").fill("MADO2024")
    page.get_by_role("button", name="Issue a virtual card").click()
    card_number = page.locator(".card-number").inner_text().strip()
    page.get_by_role("link", name="Sign in with this card").click()
    page.get_by_label("Card number").fill(card_number)
    page.get_by_label("PIN for user authentication").fill("2580")
    page.get_by_label("Signature password").fill("MADO2024")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/me")
    name = page.locator(".account-email").inner_text()

    add_a_passkey(page, "my phone")
    expect(page.locator("tbody td").nth(2)).to_have_text("proven by your My Number card")
    sign_out(page)
    sign_in_with_passkey(page)
    page.wait_for_url("**/me")
    expect(page.locator(".account-email")).to_have_text(name)
    [credential] = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["signCount"] >= 1
