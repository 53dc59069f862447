"""Officials in tests: a person made an official of a body (or a platform administrator)
directly in the database, and a browser signed in as them.

The tests of inviting and accepting go through the real pages; these helpers are for the tests
that need an official to start from.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from madoguchi.core import tenancy
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.identity.models.officials import Official, OfficialRole, PlatformAdministrator
from madoguchi.tenants.models import Tenant
from tests.support.people import make_person, signed_in


def make_official(
    database_url: str,
    codes: str | tuple[str, ...],
    role: OfficialRole | str,
    person_id: uuid.UUID | None = None,
    name: str = "窓口 花子",
    email: str | None = None,
) -> uuid.UUID:
    """Make ``person_id`` (or a new person) an official of each body in ``codes`` with ``role``."""
    person = person_id or make_person(database_url, name, email=email)
    wanted = (codes,) if isinstance(codes, str) else codes

    async def add() -> None:
        engine = create_engine(database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as db:
                await tenancy.enter_platform(db, "test set-up")
                tenants = await db.scalars(select(Tenant).where(Tenant.code.in_(wanted)))
                for tenant in tenants:
                    db.add(Official(tenant_id=tenant.id, person_id=person, role=str(role)))
        finally:
            await engine.dispose()

    asyncio.run(add())
    return person


def make_platform_administrator(database_url: str, person_id: uuid.UUID | None = None) -> uuid.UUID:
    person = person_id or make_person(database_url, "基盤 管理者")

    async def add() -> None:
        engine = create_engine(database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as db:
                db.add(PlatformAdministrator(person_id=person))
        finally:
            await engine.dispose()

    asyncio.run(add())
    return person


def signed_in_official(
    client: TestClient,
    database_url: str,
    codes: str | tuple[str, ...],
    role: OfficialRole | str,
    **person: str,
) -> uuid.UUID:
    """``client`` signed in as a new official of ``codes`` with ``role``; returns the person.
    The header shows their email address, as after an email or passkey sign-in of an official
    (``sessions.sign_in`` shows the display name, which is the address for them)."""
    person_id = make_official(database_url, codes, role, **person)  # type: ignore[arg-type]
    signed_in(client, database_url, person_id, display=person.get("email") or "official@example.jp")
    return person_id
