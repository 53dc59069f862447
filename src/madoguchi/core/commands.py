"""Helpers for command-line commands: run async work in one unit of work, show progress."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.settings import get_settings
from madoguchi.core.tenancy import enter_platform

T = TypeVar("T")


def run_in_unit_of_work(work: Callable[[AsyncSession], Awaitable[T]], database_url: str = "") -> T:
    """Run ``work`` in one transaction on the configured database and return what it returns.

    An expected failure is printed as ``error: field: message`` and exits with status 2.
    """
    try:
        return asyncio.run(_run(work, database_url or get_settings().resolved_database_url()))
    except MadoguchiError as error:
        where = f"{error.field}: " if error.field else ""
        typer.echo(f"error: {where}{error}", err=True)
        raise typer.Exit(code=2) from None


async def _run(work: Callable[[AsyncSession], Awaitable[T]], database_url: str) -> T:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            # an operator's command: work for any body (it connects as the tables' owner,
            # whom row-level security holds too, being forced)
            await enter_platform(session, "a command-line command")
            return await work(session)
    finally:
        await engine.dispose()
