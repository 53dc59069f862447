"""Work the server does on its own, every few seconds: sending webhooks, deleting expired drafts
and sessions.

One asyncio task per server process, started and stopped by the app's lifespan. Each job runs
in its own rounds, and a job that fails is logged and tried again next round: nothing it raises
stops the loop or the other jobs. Several processes may run the loop at once — webhook
deliveries are claimed with ``FOR UPDATE SKIP LOCKED``, and purging drafts twice deletes
nothing twice. [P5] moves these jobs into a worker of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.db import unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.identity import sessions
from madoguchi.submissions import drafts, webhooks

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
MAX_WEBHOOK_BATCHES = 10  # per round, so one busy round cannot starve the other jobs


@dataclass
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[dt.datetime], Awaitable[object]]
    last_run: dt.datetime | None = None

    def is_due(self, now: dt.datetime) -> bool:
        return self.last_run is None or now - self.last_run >= self.every


class BackgroundJobs:
    """The loop and its jobs. The first round runs one tick after start, so starting a server
    (or a test's client) is never slowed by it."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settings: Settings,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.tick_seconds = tick_seconds
        self.client = httpx.AsyncClient(follow_redirects=False, timeout=webhooks.REQUEST_TIMEOUT)
        self.jobs = [
            Job("webhooks", dt.timedelta(seconds=0), self.deliver_webhooks),
            Job("expired drafts", dt.timedelta(minutes=10), self.purge_drafts),
            Job("expired sessions", dt.timedelta(minutes=10), self.purge_sessions),
        ]
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name="madoguchi-background")

    async def stop(self) -> None:
        """Cancel the loop (a transaction it was in rolls back) and close its HTTP client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()

    async def run_due(self, now: dt.datetime) -> None:
        """One round: every job that is due, each on its own, a failure logged."""
        for job in self.jobs:
            if not job.is_due(now):
                continue
            job.last_run = now
            try:
                await job.run(now)
            except Exception:
                log.exception("background job %r failed; it runs again next round", job.name)

    async def deliver_webhooks(self, now: dt.datetime) -> int:
        sent = 0
        for _batch in range(MAX_WEBHOOK_BATCHES):
            tried = await webhooks.deliver_due(
                self.session_factory, self.client, self.settings, now
            )
            sent += tried
            if tried < webhooks.BATCH_SIZE:
                break
        return sent

    async def purge_drafts(self, now: dt.datetime) -> int:
        async with unit_of_work(self.session_factory) as session:
            return await drafts.purge_expired(session, now)

    async def purge_sessions(self, now: dt.datetime) -> int:
        """Sessions past their limits are refused when presented; this clears the rows."""
        async with unit_of_work(self.session_factory) as session:
            return await sessions.purge_expired(session, self.settings, now)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            await self.run_due(dt.datetime.now(dt.UTC))
