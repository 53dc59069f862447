"""How many documents one client address may have checked: each check parses a PDF and checks
its signatures (tens of milliseconds), so the pages and the API count them alike, in the
database (``core.attempts``), so that every server process counts the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from madoguchi.core import attempts
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_

CHECKS = attempts.Limit("verify-upload", 60, dt.timedelta(minutes=10))
TOO_MANY = N_("Too many checks from your address: try again in {minutes} minutes.")


class TooManyChecks(MadoguchiError):
    code = "too-many-checks"
    status = 429
    title = N_("Too many checks")


async def spend_a_check(request: HTTPConnection, session: AsyncSession) -> None:
    """Count one check for the client, or refuse it once the client has used its checks."""
    now, source = dt.datetime.now(dt.UTC), attempts.client_address(request)
    if await attempts.used_up(session, CHECKS, source, now):
        raise TooManyChecks(TOO_MANY, minutes=CHECKS.minutes)
    await attempts.note(session, CHECKS, source, now)
