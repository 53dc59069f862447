"""Fixtures for journeys in a real browser: Debian's chromium, driven by Playwright, against the
real `madoguchi serve` started in a child process on the test's own database.

Playwright is started per test, after the server: its sync API marks its event loop as running
between calls, and the database fixtures use ``asyncio.run`` on PostgreSQL, so the browser must be
gone before the test's database is dropped (fixtures are torn down in reverse order).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from madoguchi.core.sessions import SESSION_COOKIE
from madoguchi.identity.models.officials import OfficialRole
from tests.browser.artifacts import ARTIFACTS, artifact_name, save_screenshot
from tests.support.databases import Backend
from tests.support.mail import Mailbox, mailbox_fixture  # noqa: F401  (the `mailbox` fixture)
from tests.support.officials import make_official
from tests.support.people import signed_in
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
# The bodies whose staff pages the journeys' officials work in (as administrators).
STAFF_BODIES = ("soumu", "131016", "011002")


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
    context options, such as ``java_script_enabled=False``."""
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
    """The SMTP server to send mail to (plain SMTP on loopback)."""
    environment: dict[str, str] = {}
    if mailbox is not None:
        environment |= {
            "MADOGUCHI_SMTP_HOST": HOST,
            "MADOGUCHI_SMTP_PORT": str(mailbox.port),
            "MADOGUCHI_SMTP_STARTTLS": "false",
        }
    return environment


def sign_in_official(page: Page, server: Server, database_url: str) -> None:
    """Give the page's browser the session of a new administrator of STAFF_BODIES, as a
    completed sign-in would (the officials' own journey, tests/browser/test_officials.py, signs
    in through the invitation)."""
    jar = SimpleNamespace(cookies=httpx.Cookies())

    def write_the_session() -> None:
        person = make_official(database_url, STAFF_BODIES, OfficialRole.ADMINISTRATOR)
        signed_in(jar, database_url, person)  # type: ignore[arg-type]  it sets only cookies

    # In a thread of its own: Playwright's sync API keeps an event loop marked as running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(write_the_session).result()
    page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": jar.cookies[SESSION_COOKIE], "url": server.base_url}]
    )


@pytest.fixture
def journey_server(database_url: str, tmp_path: Path, mailbox: Mailbox) -> Iterator[Server]:
    """`madoguchi serve` on this test's own database, mailing to ``mailbox``."""
    with running_server(
        tmp_path / "server-data",
        database_url=database_url,
        environment=journey_environment(mailbox),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def shared_journey_database(
    backend: Backend, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("shared-journey-database")
    url = backend.clone(template_database, directory, "shared")
    try:
        yield url
    finally:
        backend.drop(url)


@pytest.fixture(scope="module")
def shared_journey_server(
    shared_journey_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a module, on a database of the module's own. Its tests may add drafts,
    submissions and officials, never change what another test reads."""
    directory = tmp_path_factory.mktemp("shared-journey-server")
    with running_server(
        directory / "server-data",
        database_url=shared_journey_database,
        environment=journey_environment(),
    ) as running:
        yield running


@dataclass
class Browsers:
    """The people of a journey, each in a browser context of their own on the test's server:
    applicants (with or without JavaScript) and officials (signed in as an administrator of
    STAFF_BODIES). Every context is closed when the test ends, with a screenshot of each page if
    it failed."""

    browser: Browser
    server: Server
    database_url: str
    opened: list[Page] = field(default_factory=list)

    def applicant(self, *, javascript: bool = True) -> Page:
        return self._open(java_script_enabled=javascript)

    def official(self) -> Page:
        opened = self._open()
        sign_in_official(opened, self.server, self.database_url)
        return opened

    def _open(self, **options: Any) -> Page:
        opened = open_page(self.browser, self.server, **options)
        self.opened.append(opened)
        return opened


@pytest.fixture
def browsers(
    request: pytest.FixtureRequest, journey_server: Server, browser: Browser, database_url: str
) -> Iterator[Browsers]:
    people = Browsers(browser, journey_server, database_url)
    yield people
    for index, opened in enumerate(people.opened, start=1):
        _keep_evidence_of_failure(request, opened, suffix=f"-{index}")
        opened.context.close()


@pytest.fixture
def shared_journey_page(
    request: pytest.FixtureRequest,
    shared_journey_server: Server,
    shared_journey_database: str,
    browser: Browser,
) -> Iterator[Page]:
    """A fresh context on the module's journey server, signed in as an official (the pages of
    applicants do not mind)."""
    opened = open_page(browser, shared_journey_server)
    sign_in_official(opened, shared_journey_server, shared_journey_database)
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
