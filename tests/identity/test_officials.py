"""Officials: an administrator invites by email (real SMTP), the invited person accepts and works
for that body only; roles change and officials are removed, audited, with their sessions ended;
identifiers sent in a form never widen what a request may do."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core import tenancy
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.sessions import SESSION_COOKIE
from madoguchi.core.settings import Settings
from madoguchi.identity.models import AuditEntry, Person, WebSession
from madoguchi.identity.models.officials import Official, OfficialInvitation, OfficialRole
from madoguchi.tenants.models import Tenant
from tests.staff.support import checked, csrf_of, token
from tests.support.html import Page
from tests.support.mail import (  # noqa: F401  mailbox_fixture is the mailbox fixture
    Mailbox,
    another_browser,
    mailbox_fixture,
    text_of,
    with_smtp,
)
from tests.support.officials import make_official, signed_in_official
from tests.support.people import signed_in

SAPPORO, HAKODATE = "011002", "012025"
OFFICIALS = f"/staff/bodies/{SAPPORO}/officials"
NEWCOMER = "kakari@city.sapporo.example.jp"
T = TypeVar("T")
INVITATION = re.compile(r"https?://\S+?(/staff/invitations/[A-Za-z0-9._-]+)")


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return with_smtp(settings, mailbox)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as db:
            await tenancy.enter_platform(db, "test check")
            yield db
    finally:
        await engine.dispose()


def invite(
    client: TestClient, email: str, role: str, url: str = OFFICIALS, **extra: str
) -> Response:
    return client.post(
        url, data={"csrf_token": token(client, "/sign-in"), "email": email, "role": role, **extra}
    )


def invitation_in(mailbox: Mailbox, email: str) -> str:
    found = INVITATION.findall(text_of(mailbox.only_message_to(email)))
    assert len(found) == 1, found
    return str(found[0])


def accept(client: TestClient, path: str) -> Response:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_of(Page(page.text))}, follow_redirects=False)


def in_database(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a committed transaction of its own (the test is not async: the helpers
    that sign in run their own event loops)."""

    async def run() -> T:
        async with database(url) as db:
            return await work(db)

    return asyncio.run(run())


def invitations(url: str) -> list[OfficialInvitation]:
    async def found(db: AsyncSession) -> list[OfficialInvitation]:
        return list((await db.scalars(select(OfficialInvitation))).all())

    return in_database(url, found)


async def tenant_id(url: str, code: str) -> uuid.UUID:
    async with database(url) as db:
        return (await db.scalars(select(Tenant.id).where(Tenant.code == code))).one()


async def audit_actions(url: str, code: str) -> list[tuple[str, str, dict[str, object]]]:
    chain = str(await tenant_id(url, code))
    async with database(url) as db:
        entries = await db.scalars(
            select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
        )
        return [(e.action, e.actor, e.details) for e in entries]


async def sessions_of(url: str, person_id: uuid.UUID) -> int:
    async with database(url) as db:
        query = select(func.count()).select_from(WebSession)
        return int(await db.scalar(query.where(WebSession.person_id == person_id)) or 0)


# --- inviting and accepting ------------------------------------------------------------------


def test_an_invited_official_joins_and_works_for_that_body_only(
    client: TestClient, database_url: str, mailbox: Mailbox
) -> None:
    admin = signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    client.cookies.set("lang", "en")
    sent = invite(client, NEWCOMER, "caseworker")
    assert sent.status_code == 200, sent.text
    assert NEWCOMER in Page(sent.text).main.text
    message = mailbox.only_message_to(NEWCOMER)
    assert "札幌市" in text_of(message) and "Caseworker" in text_of(message)
    path = invitation_in(mailbox, NEWCOMER)
    assert path.startswith(f"/staff/invitations/{SAPPORO}.")

    with another_browser(client) as newcomer:
        newcomer.cookies.set("lang", "en")
        assert newcomer.get(path).status_code == 200
        assert newcomer.get(path).status_code == 200  # opening it spends nothing
        accepted = accept(newcomer, path)
        assert accepted.status_code == 303
        assert accepted.headers["location"] == "/account/passkeys"
        assert newcomer.get(f"/staff/bodies/{SAPPORO}").status_code == 200
        assert newcomer.get(f"/staff/bodies/{SAPPORO}/webhooks").status_code == 403
        assert newcomer.get(f"/staff/bodies/{HAKODATE}").status_code == 403
        assert "Caseworker" in newcomer.get(f"/staff/bodies/{SAPPORO}").text

    sapporo = asyncio.run(tenant_id(database_url, SAPPORO))

    async def joined_official(db: AsyncSession) -> tuple[Person, Official | None]:
        person = (await db.scalars(select(Person).where(Person.email == NEWCOMER))).one()
        return person, await db.get(Official, (sapporo, person.id))

    person, official = in_database(database_url, joined_official)
    assert official is not None and official.role == "caseworker"
    assert official.invited_by == admin
    actions = asyncio.run(audit_actions(database_url, SAPPORO))
    assert ("official.invited", f"person:{admin}", {"email": NEWCOMER, "role": "caseworker"}) in (
        actions
    )
    joined = [a for a in actions if a[0] == "official.joined"]
    assert joined == [
        ("official.joined", f"person:{person.id}", {"old_role": None, "new_role": "caseworker"})
    ]


def test_a_used_or_expired_or_mangled_invitation_is_refused(
    client: TestClient, database_url: str, mailbox: Mailbox
) -> None:
    signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    client.cookies.set("lang", "en")
    invite(client, NEWCOMER, "viewer")
    invite(client, "late@example.jp", "viewer")
    used, late = invitation_in(mailbox, NEWCOMER), invitation_in(mailbox, "late@example.jp")
    with another_browser(client) as browser:
        browser.cookies.set("lang", "en")
        assert accept(browser, used).status_code == 303
        again = browser.post(used, data={"csrf_token": token(browser, "/sign-in")})
        assert again.status_code == 422 and "already been used" in again.text

    async def expire(db: AsyncSession) -> None:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await db.execute(
            update(OfficialInvitation)
            .where(OfficialInvitation.email == "late@example.jp")
            .values(expires_at=past)
        )

    in_database(database_url, expire)
    with another_browser(client) as browser:
        browser.cookies.set("lang", "en")
        expired = browser.get(late)
        assert expired.status_code == 422 and "expired" in expired.text
        secret = late.rsplit(".", 1)[1]
        for mangled in (
            late[:-3],
            f"/staff/invitations/{HAKODATE}.{secret}",
            "/staff/invitations/x",
        ):
            response = browser.get(mangled)
            assert response.status_code in (404, 422), mangled
            assert "does not work" in response.text or response.status_code == 404
    late = select(Person).where(Person.email == "late@example.jp")
    # nobody was made from an unusable invitation
    assert in_database(database_url, lambda db: db.scalar(late)) is None


def test_only_a_body_s_administrators_invite(
    client: TestClient, database_url: str, mailbox: Mailbox
) -> None:
    signed_in_official(client, database_url, SAPPORO, OfficialRole.SUPERVISOR)
    assert invite(client, NEWCOMER, "viewer").status_code == 403
    signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    # an administrator of 札幌市 is nobody at 函館市
    hakodate = f"/staff/bodies/{HAKODATE}/officials"
    assert invite(client, NEWCOMER, "administrator", url=hakodate).status_code == 403
    assert client.get(hakodate).status_code == 403
    assert mailbox.messages == []
    assert invitations(database_url) == []


def test_identifiers_sent_in_the_form_are_not_trusted(
    client: TestClient, database_url: str, mailbox: Mailbox
) -> None:
    signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    hakodate_id = asyncio.run(tenant_id(database_url, HAKODATE))
    someone = make_official(database_url, HAKODATE, OfficialRole.ADMINISTRATOR, name="函館 太郎")
    sent = invite(
        client,
        NEWCOMER,
        "viewer",
        tenant_id=str(hakodate_id),
        tenant=HAKODATE,
        code=HAKODATE,
        invited_by=str(someone),
        person_id=str(someone),
    )
    assert sent.status_code == 200
    for role in ("platform", "platform_administrator", "owner", ""):
        refused = invite(client, "other@example.jp", role)
        assert refused.status_code == 422, role
    (invitation,) = invitations(database_url)
    assert invitation.tenant_id == asyncio.run(tenant_id(database_url, SAPPORO))
    assert invitation.role == "viewer" and invitation.invited_by != someone
    # a Hakodate official's id under Sapporo's path is nobody here
    csrf = token(client, OFFICIALS)
    changed = client.post(
        f"{OFFICIALS}/{someone}/role", data={"csrf_token": csrf, "role": "viewer"}
    )
    assert changed.status_code == 404
    removed = client.post(f"{OFFICIALS}/{someone}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 404
    official = in_database(database_url, lambda db: db.get(Official, (hakodate_id, someone)))
    assert official is not None and official.role == "administrator"
    assert official.disabled_at is None


# --- changing and removing -------------------------------------------------------------------


def test_a_role_change_is_audited_and_ends_the_official_s_sessions(
    client: TestClient, database_url: str
) -> None:
    worker = make_official(database_url, SAPPORO, OfficialRole.SUPERVISOR, name="札幌 次郎")
    with another_browser(client) as browser:
        signed_in(client, database_url, worker)
        assert browser.get(f"/staff/bodies/{SAPPORO}/procedures/from-excel").status_code == 200
        old_cookie = browser.cookies.get(SESSION_COOKIE)
    admin = signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    assert asyncio.run(sessions_of(database_url, worker)) == 1
    csrf = token(client, OFFICIALS)
    changed = client.post(
        f"{OFFICIALS}/{worker}/role",
        data={"csrf_token": csrf, "role": "viewer", "tenant_id": str(uuid.uuid4())},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert asyncio.run(sessions_of(database_url, worker)) == 0
    with another_browser(client) as browser:
        browser.cookies.set(SESSION_COOKIE, str(old_cookie))
        ended = browser.get(f"/staff/bodies/{SAPPORO}", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/sign-in")
        signed_in(browser, database_url, worker)
        assert browser.get(f"/staff/bodies/{SAPPORO}/procedures/from-excel").status_code == 403
        assert browser.get(f"/staff/bodies/{SAPPORO}").status_code == 200
    assert (
        "official.role_changed",
        f"person:{admin}",
        {"old_role": "supervisor", "new_role": "viewer", "sessions_ended": 1},
    ) in asyncio.run(audit_actions(database_url, SAPPORO))


def test_a_removed_official_is_signed_out_and_refused(
    client: TestClient, database_url: str
) -> None:
    worker = make_official(database_url, SAPPORO, OfficialRole.CASEWORKER)
    admin = signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    page = client.get(OFFICIALS)
    assert str(worker) in page.text
    removed = client.post(
        f"{OFFICIALS}/{worker}/remove", data={"csrf_token": csrf_of(Page(page.text))}
    )
    assert removed.status_code == 200 and str(worker) not in removed.text
    with another_browser(client) as browser:
        signed_in(browser, database_url, worker)
        assert browser.get(f"/staff/bodies/{SAPPORO}").status_code == 403
    assert (
        "official.removed",
        f"person:{admin}",
        {"old_role": "caseworker", "new_role": None, "sessions_ended": 0},
    ) in asyncio.run(audit_actions(database_url, SAPPORO))


def test_the_last_administrator_stays(client: TestClient, database_url: str) -> None:
    admin = signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    client.cookies.set("lang", "en")
    csrf = token(client, OFFICIALS)
    demoted = client.post(f"{OFFICIALS}/{admin}/role", data={"csrf_token": csrf, "role": "viewer"})
    assert demoted.status_code == 409 and "only administrator" in demoted.text
    removed = client.post(f"{OFFICIALS}/{admin}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 409
    assert client.get(OFFICIALS).status_code == 200  # still an administrator, still signed in


def test_an_official_is_not_invited_twice(
    client: TestClient, database_url: str, mailbox: Mailbox
) -> None:
    make_official(database_url, SAPPORO, OfficialRole.VIEWER, email=NEWCOMER)
    signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    client.cookies.set("lang", "en")
    again = invite(client, NEWCOMER, "caseworker")
    assert again.status_code == 409 and "change their role" in again.text
    assert mailbox.messages == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_officials_page_lists_officials_and_invitations(
    client: TestClient, database_url: str, mailbox: Mailbox, language: str
) -> None:
    make_official(database_url, SAPPORO, OfficialRole.SUPERVISOR, email="kanri@example.jp")
    signed_in_official(client, database_url, SAPPORO, OfficialRole.ADMINISTRATOR)
    client.cookies.set("lang", language)
    invite(client, NEWCOMER, "viewer")
    page = checked(client.get(OFFICIALS), language)
    assert "kanri@example.jp" in page.main.text and NEWCOMER in page.main.text
    assert page.find("select", name="role") is not None
    with another_browser(client) as browser:
        browser.cookies.set("lang", language)
        checked(browser.get(invitation_in(mailbox, NEWCOMER)), language)
