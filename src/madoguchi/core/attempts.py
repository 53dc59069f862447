"""Rate limits kept in the database, so that every server process counts the same tries.

A limit has a name, a number of tries and a window; what it counts is a source (a client
address, a session, a card). ``check`` refuses once the source has used its tries within the
window; ``note`` records one try (the caller decides which tries count: all of them, or only the
failed ones). Old rows are deleted as new ones are noted, so the table stays small.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import DateTime, Index, String, Uuid, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import HTTPConnection

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class Attempt(Base):
    """One try at something rate-limited (a sign-in, a PIN, a passkey, a verification), by
    what is limited: ``key`` is the SHA-256 of the limit's name and the source (a client
    address, a session), so the table holds no addresses."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_key_at", "key", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Limit:
    name: str
    tries: int
    window: dt.timedelta

    def key(self, source: str) -> str:
        return hashlib.sha256(f"{self.name}\x00{source}".encode()).hexdigest()

    @property
    def minutes(self) -> int:
        return max(1, int(self.window.total_seconds() // 60))


async def used_up(db: AsyncSession, limit: Limit, source: str, now: dt.datetime) -> bool:
    """Whether ``source`` has used all its tries within the window."""
    count = await db.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.key == limit.key(source), Attempt.at > now - limit.window)
    )
    return int(count or 0) >= limit.tries


async def note(db: AsyncSession, limit: Limit, source: str, now: dt.datetime) -> None:
    key = limit.key(source)
    await db.execute(delete(Attempt).where(Attempt.key == key, Attempt.at <= now - limit.window))
    db.add(Attempt(key=key, at=now))


def client_address(request: HTTPConnection) -> str:
    """The client's address as the server sees it (uvicorn resolves trusted proxies' headers)."""
    return request.client.host if request.client else "unknown"
