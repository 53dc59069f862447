"""People in tests: a person made directly in the database, and a browser signed in as them.

``signed_in`` writes a server-side session row for a known token and gives the test client that
cookie, as a completed sign-in would. It is how tests that are not about signing in start from a
signed-in browser; the tests of each sign-in method sign in the real way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.ids import uuid7
from madoguchi.core.sessions import CSRF_FIELD, SESSION_COOKIE
from madoguchi.identity.models import Assurance, Person, SignInMethod, WebSession
from tests.support.databases import in_database


def make_person(database_url: str, name: str = "山田 太郎", **fields: object) -> uuid.UUID:
    person_id = uuid7()

    async def add(db: AsyncSession) -> None:
        db.add(Person(id=person_id, display_name=name, name=name, **fields))

    in_database(database_url, add)
    return person_id


def signed_in(
    client: TestClient,
    database_url: str,
    person_id: uuid.UUID,
    method: SignInMethod = SignInMethod.CARD,
    assurance: Assurance = Assurance.HIGH,
    *,
    shared_terminal: bool = False,
    display: str = "山田 太郎",
) -> str:
    """Sign ``client`` in as the person; returns the session's form token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)

    async def add(db: AsyncSession) -> None:
        db.add(
            WebSession(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                person_id=person_id,
                method=method.value,
                assurance=int(assurance),
                data={CSRF_FIELD: csrf, "display": display},
                shared_terminal=shared_terminal,
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=12),
                signed_in_at=now,
                card_proven_at=now if method is SignInMethod.CARD else None,
            )
        )

    in_database(database_url, add)
    # Replace the cookie the app set, whatever its domain: two would conflict.
    for cookie in [c for c in client.cookies.jar if c.name == SESSION_COOKIE]:
        client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    return csrf
