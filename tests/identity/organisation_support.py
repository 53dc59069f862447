"""Helpers of the organisation tests: posting the pages' forms and reading what was stored."""

from __future__ import annotations

import re
import uuid
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.sessions import SESSION_COOKIE
from madoguchi.identity.models import (
    Assurance,
    AuditEntry,
    Membership,
    SignInMethod,
    WebSession,
)
from tests.support.databases import in_database
from tests.support.html import Page, get_page
from tests.support.people import signed_in

T = TypeVar("T")
CORPORATE_NUMBER = "5835678256246"
INVITATION = re.compile(r"https?://\S+(/account/invitations/[A-Za-z0-9_-]+)")


def sign_in_as(
    client: TestClient,
    database_url: str,
    person_id: uuid.UUID,
    method: SignInMethod = SignInMethod.CARD,
    assurance: Assurance = Assurance.HIGH,
) -> None:
    signed_in(client, database_url, person_id, method, assurance)


read = in_database  # run a query in a unit of work of its own (it sees what the app committed)


def memberships(database_url: str, person_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    async def query(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
        rows = await db.execute(
            select(Membership.organisation_id, Membership.role)
            .where(Membership.person_id == person_id)
            .order_by(Membership.created_at)
        )
        return [(organisation, role) for organisation, role in rows.all()]

    return read(database_url, query)


def organisation_ids(database_url: str, person_id: uuid.UUID) -> list[uuid.UUID]:
    return [organisation for organisation, _ in memberships(database_url, person_id)]


def audit_of(database_url: str, action: str) -> list[AuditEntry]:
    async def query(db: AsyncSession) -> list[AuditEntry]:
        entries = await db.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return list(entries)

    return read(database_url, query)


def session_acting_for(database_url: str, person_id: uuid.UUID) -> list[uuid.UUID | None]:
    """What each server-side session of the person acts for."""

    async def query(db: AsyncSession) -> list[uuid.UUID | None]:
        rows = await db.scalars(
            select(WebSession.acting_for).where(WebSession.person_id == person_id)
        )
        return list(rows)

    return read(database_url, query)


def form_token(client: TestClient, path: str = "/account/organisations") -> str:
    """This browser's form token, read from a page in the language it has chosen."""
    page = Page(client.get(path).text)
    return page.find("input", name="csrf_token").attrs["value"]


def register(
    client: TestClient,
    kind: str = "business",
    name: str = "株式会社テスト",
    number: str = CORPORATE_NUMBER,
    code: str = "",
    language: str = "ja",
    extra: dict[str, str] | None = None,
) -> Response:
    data: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "corporate_number": number,
        "medical_institution_code": code,
        "csrf_token": form_token(client, "/account/acting-for"),
        **(extra or {}),
    }
    client.cookies.set("lang", language)
    return client.post("/account/organisations", data=data, follow_redirects=False)


def post(client: TestClient, path: str, data: dict[str, str], page: str) -> Response:
    """Post a form of ``page`` with this browser's token."""
    token = form_token(client, page)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def invitation_in(text: str) -> str:
    links = INVITATION.findall(text)
    assert len(links) == 1, f"expected one invitation link, found {links}"
    return str(urlsplit(links[0]).path)


def acting_shown(client: TestClient, language: str) -> str | None:
    """The organisation the header says this browser acts for (None: acting for oneself)."""
    _, page = get_page(client, "/account/organisations", language)
    shown = page.find_all(class_="acting-for")
    return shown[0].find("span").text if shown else None


def acting_chosen(client: TestClient) -> str | None:
    """The capacity /account/acting-for shows as chosen (None: oneself)."""
    _, page = get_page(client, "/account/acting-for", "en")
    [checked] = [i for i in page.find_all("input", name="organisation") if "checked" in i.attrs]
    if not checked.attrs["value"]:
        return None
    return page.find("label", for_=checked.attrs["id"]).find("span").text


def session_tokens(client: TestClient) -> set[str]:
    """Every session token this browser holds."""
    return {cookie.value or "" for cookie in client.cookies.jar if cookie.name == SESSION_COOKIE}


def page_of(response: Response) -> Page:
    return Page(response.text)
