"""Request dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import unit_of_work
from madoguchi.core.errors import InvalidInput
from madoguchi.core.settings import Settings


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.session_factory) as session:
        yield session


# scope="function": the unit of work commits before the response is sent, so a client is never
# told "done" about a transaction that then fails to commit.
Session = Annotated[AsyncSession, Depends(_session, scope="function")]


def settings_of(request: Request) -> Settings:
    """The settings the app was made with (tests make apps with settings of their own)."""
    return cast(Settings, request.app.state.settings)


AppSettings = Annotated[Settings, Depends(settings_of)]


def no_nul_characters(request: Request) -> None:
    """Refuse a NUL character in the address: no one types it, and PostgreSQL cannot hold it in
    text, so a search for it would fail deep inside the database instead of here, clearly."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in str(value):
            raise InvalidInput(
                "{name} contains a character that is not allowed (NUL).", field=name, name=name
            )
