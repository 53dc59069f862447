"""An official's journey in a real browser: invited to 札幌市 from the command line, they open
the emailed link, accept, are signed in and sent to add a passkey, see Sapporo's submissions, and
reach none of 函館市's by its address."""

from __future__ import annotations

import asyncio
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from tests.browser.conftest import Browsers
from tests.browser.test_procedures import shot
from tests.support.mail import Mailbox, text_of
from tests.support.notices import publish_notice, submit_notice
from tests.support.server import madoguchi_command, server_environment

pytestmark = pytest.mark.browser

NEWCOMER = "kakari@city.sapporo.example.jp"
OWN, SECRET = "SPR-OWN-b4x9", "HKD-SECRET-b4x9"


async def _submissions(database_url: str, store: FileStore) -> dict[str, str]:
    made = {}
    for code, slug, note in (
        ("011002", "sapporo-notice", OWN),
        ("012025", "hakodate-notice", SECRET),
    ):
        await publish_notice(code, slug, f"届出 {code}", database_url)
        submission_id, _ = await submit_notice(database_url, store, code, slug, note, "a.pdf")
        made[code] = str(submission_id)
    return made


def invite_from_the_command_line(database_url: str, tmp_path: Path, mailbox: Mailbox) -> str:
    environment = server_environment(
        tmp_path / "cli-data",
        database_url,
        {"MADOGUCHI_SMTP_HOST": "127.0.0.1", "MADOGUCHI_SMTP_PORT": str(mailbox.port),
         "MADOGUCHI_SMTP_STARTTLS": "false"},
    )  # fmt: skip
    command = [*madoguchi_command(), "officials", "invite", "--body", "011002"]
    command += ["--email", NEWCOMER, "--role", "caseworker"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (path,) = re.findall(r"/staff/invitations/[A-Za-z0-9._-]+", done.stdout)
    return path


def test_an_official_invited_to_sapporo_sees_sapporo_and_never_hakodate(
    request: pytest.FixtureRequest,
    browsers: Browsers,
    mailbox: Mailbox,
    database_url: str,
    tmp_path: Path,
) -> None:
    store = FileStore.from_settings(Settings(data_dir=tmp_path / "files"))
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's loop is marked as running
        made = pool.submit(asyncio.run, _submissions(database_url, store)).result()
        printed = pool.submit(
            invite_from_the_command_line, database_url, tmp_path, mailbox
        ).result()
    text = text_of(mailbox.only_message_to(NEWCOMER))  # sent before the command returned
    assert re.findall(r"/staff/invitations/[A-Za-z0-9._-]+", text) == [printed]

    official = browsers.applicant()
    official.goto(printed)
    expect(official.locator("main")).to_contain_text("札幌市")
    shot(request, official, "1-invitation")
    official.locator("main form button[type=submit]").click()
    official.wait_for_url(re.compile(r"/account/passkeys"))
    shot(request, official, "2-add-a-passkey")

    official.goto("/staff")
    official.locator("a[href='/staff/bodies/011002']").click()
    official.locator(
        "a[href='/staff/bodies/011002/procedures/sapporo-notice/submissions']"
    ).first.click()
    expect(official.locator("main")).to_contain_text(OWN)
    expect(official.locator(".staff-identity")).to_contain_text(NEWCOMER)
    shot(request, official, "3-sapporo-submissions")

    for address, status in (
        (f"/staff/bodies/012025/submissions/{made['012025']}", 403),
        ("/staff/bodies/012025/procedures/hakodate-notice/submissions", 403),
        ("/staff/bodies/012025/procedures/hakodate-notice/submissions.csv", 403),
        (f"/staff/bodies/011002/submissions/{made['012025']}", 404),
    ):
        response = official.goto(address)
        assert response is not None and response.status == status, address
        assert SECRET not in official.content()
    shot(request, official, "4-hakodate-refused")
