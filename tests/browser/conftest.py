"""Fixtures for journeys in a real browser: Debian's chromium, driven by Playwright, against the
real `madoguchi serve` started in a child process on the test's own database.

Playwright is started per test, after the server: its sync API marks its event loop as running
between calls, and the database fixtures use ``asyncio.run`` on PostgreSQL, so the browser must be
gone before the test's database is dropped (fixtures are torn down in reverse order).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.artifacts import ARTIFACTS, artifact_name, save_screenshot
from tests.support.databases import Backend
from tests.support.mail import Mailbox, mailbox_fixture  # noqa: F401  (the `mailbox` fixture)
from tests.support.server import HOST, Server, running_server

# Headless, as root in CI, on a machine whose network is closed to everything but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
NAVIGATION_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 10_000
# The interim staff credential the servers of journeys are started with (HTTP Basic).
STAFF_USER = "admin"
STAFF_PASSWORD = "browser-journeys-staff-password"


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium on PATH; its absence is a failure, never a skip."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "The browser tests need Debian's chromium on PATH and found none. Install it with "
            "`apt-get install chromium fonts-noto-cjk` (.ci/run does). Never run "
            "`playwright install`: no browser is downloaded.",
            pytrace=False,
        )
    return path


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`madoguchi serve` on this test's own migrated and seeded database."""
    with running_server(tmp_path / "server-data", database_url=database_url) as running:
        yield running


@pytest.fixture(scope="module")
def shared_server(
    backend: Backend, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a module whose tests only read, on a database of the module's own."""
    directory = tmp_path_factory.mktemp("shared-server")
    url = backend.clone(template_database, directory, "shared")
    try:
        with running_server(directory / "server-data", database_url=url) as running:
            yield running
    finally:
        backend.drop(url)


@pytest.fixture
def browser(chromium_executable: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Browser, server: Server, **options: Any) -> Page:
    """A page in a new context (a browser of its own: no cookies); ``options`` are Playwright's
    context options, such as ``java_script_enabled=False`` or ``http_credentials``."""
    context = browser.new_context(
        base_url=server.base_url,
        viewport=VIEWPORT,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        **options,
    )
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def page(request: pytest.FixtureRequest, server: Server, browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) on this test's server."""
    opened = open_page(browser, server)
    yield opened
    _keep_evidence_of_failure(request, opened)
    opened.context.close()


@pytest.fixture
def shared_page(
    request: pytest.FixtureRequest, shared_server: Server, browser: Browser
) -> Iterator[Page]:
    opened = open_page(browser, shared_server)
    yield opened
    _keep_evidence_of_failure(request, opened)
    opened.context.close()


def journey_environment(mailbox: Mailbox | None = None) -> dict[str, str]:
    """The staff password, and the SMTP server to send mail to (plain SMTP on loopback)."""
    environment = {
        "MADOGUCHI_ADMIN_USERNAME": STAFF_USER,
        "MADOGUCHI_ADMIN_PASSWORD": STAFF_PASSWORD,
    }
    if mailbox is not None:
        environment |= {
            "MADOGUCHI_SMTP_HOST": HOST,
            "MADOGUCHI_SMTP_PORT": str(mailbox.port),
            "MADOGUCHI_SMTP_STARTTLS": "false",
        }
    return environment


@pytest.fixture
def journey_server(database_url: str, tmp_path: Path, mailbox: Mailbox) -> Iterator[Server]:
    """`madoguchi serve` on this test's own database, mailing to ``mailbox``, with the staff
    pages open to STAFF_USER and STAFF_PASSWORD."""
    with running_server(
        tmp_path / "server-data",
        database_url=database_url,
        environment=journey_environment(mailbox),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def shared_journey_server(
    backend: Backend, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server with the staff credential for a module, on a database of the module's own.
    Its tests may add drafts and submissions, never change what another test reads."""
    directory = tmp_path_factory.mktemp("shared-journey-server")
    url = backend.clone(template_database, directory, "shared")
    try:
        with running_server(
            directory / "server-data", database_url=url, environment=journey_environment()
        ) as running:
            yield running
    finally:
        backend.drop(url)


@dataclass
class Browsers:
    """The people of a journey, each in a browser context of their own on the test's server:
    applicants (with or without JavaScript) and officials (with the staff credential). Every
    context is closed when the test ends, with a screenshot of each page if it failed."""

    browser: Browser
    server: Server
    opened: list[Page] = field(default_factory=list)

    def applicant(self, *, javascript: bool = True) -> Page:
        return self._open(java_script_enabled=javascript)

    def official(self) -> Page:
        credentials = {"username": STAFF_USER, "password": STAFF_PASSWORD}
        return self._open(http_credentials=credentials)

    def _open(self, **options: Any) -> Page:
        opened = open_page(self.browser, self.server, **options)
        self.opened.append(opened)
        return opened


@pytest.fixture
def browsers(
    request: pytest.FixtureRequest, journey_server: Server, browser: Browser
) -> Iterator[Browsers]:
    people = Browsers(browser, journey_server)
    yield people
    for index, opened in enumerate(people.opened, start=1):
        _keep_evidence_of_failure(request, opened, suffix=f"-{index}")
        opened.context.close()


@pytest.fixture
def shared_journey_page(
    request: pytest.FixtureRequest, shared_journey_server: Server, browser: Browser
) -> Iterator[Page]:
    """A fresh context on the module's journey server that also carries the staff credential
    (a browser sends it only when a page asks for it)."""
    credentials = {"username": STAFF_USER, "password": STAFF_PASSWORD}
    opened = open_page(browser, shared_journey_server, http_credentials=credentials)
    yield opened
    _keep_evidence_of_failure(request, opened)
    opened.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _keep_evidence_of_failure(request: pytest.FixtureRequest, page: Page, suffix: str = "") -> None:
    """A screenshot of the page as the failed test left it; a passing test removes a stale one."""
    name = f"FAILED-{artifact_name(request)}{suffix}"
    if request.node.stash.get(_CALL_FAILED, False) and not page.is_closed():
        save_screenshot(page, name)
    else:
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
