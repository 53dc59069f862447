"""Rate limits on the simulator's forms, per client address: each try is a row, and a window
counts them (a table, not memory, so every process of the app tier counts the same tries).

The card's own lock (five wrong tries) protects one card; this limit stops one client from
trying PINs across many cards, or from issuing cards without end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import ClassVar

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.ids import uuid7
from madoguchi.identity.models.cards import CardAttempt

WINDOW = dt.timedelta(minutes=10)
MOST_TRIES = 20


class TooManyTries(MadoguchiError):
    code = "too-many-card-tries"
    status = 429
    title = N_("Too many tries")
    headers: ClassVar[dict[str, str]] = {"Retry-After": str(int(WINDOW.total_seconds()))}


TOO_MANY = N_(
    "There have been {most} tries from this connection in the last {minutes} minutes. "
    "Wait {minutes} minutes, then try again."
)


async def count_try(db: AsyncSession, action: str, client: str, now: dt.datetime) -> None:
    """Record one try of ``action`` by ``client``, or refuse it past the limit. Tries older
    than the window are forgotten."""
    key = hashlib.sha256(f"{action}:{client}".encode()).hexdigest()
    since = now - WINDOW
    await db.execute(delete(CardAttempt).where(CardAttempt.key == key, CardAttempt.at <= since))
    recent = await db.scalar(
        select(func.count()).select_from(CardAttempt).where(CardAttempt.key == key)
    )
    if (recent or 0) >= MOST_TRIES:
        raise TooManyTries(TOO_MANY, most=MOST_TRIES, minutes=int(WINDOW.total_seconds() // 60))
    db.add(CardAttempt(id=uuid7(), key=key, at=now))
    await db.flush()
