"""The background loop: started with the app, sends webhooks and purges drafts on its own, lives
through a failing job, and stops cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.identity.models import WebSession
from madoguchi.procedures import service as procedures
from madoguchi.submissions.models import DeliveryStatus, Draft, WebhookDelivery
from madoguchi.web.background import BackgroundJobs, Job
from tests.submissions.examples import SAPPORO, add_webhook, submit_moving


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def jobs(
    factory: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[BackgroundJobs]:
    background = BackgroundJobs(factory, settings, tick_seconds=0.02)
    yield background
    await background.stop()


async def wait_for(condition: object, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "the loop did not get there in time"
        await asyncio.sleep(0.02)


def test_the_app_runs_the_loop_while_it_serves(app: FastAPI) -> None:
    with TestClient(app) as client:
        background = app.state.background
        assert background.running
        assert client.get("/healthz").status_code == 200
    assert not background.running


async def test_the_loop_sends_webhooks_on_its_own(
    jobs: BackgroundJobs,
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    await add_webhook(factory, settings, SAPPORO, httpserver.url_for("/hook"))
    await submit_moving(factory)
    jobs.start()

    async def delivered() -> bool:
        async with unit_of_work(factory) as session:
            found = await session.scalar(select(WebhookDelivery))
            return found is not None and found.status == DeliveryStatus.DELIVERED

    await wait_for(delivered)
    assert len(httpserver.log) == 1


async def test_a_failing_job_is_logged_and_the_loop_goes_on(
    jobs: BackgroundJobs, caplog: pytest.LogCaptureFixture
) -> None:
    rounds: list[dt.datetime] = []

    async def broken(now: dt.datetime) -> None:
        rounds.append(now)
        raise RuntimeError("broken on purpose")

    jobs.jobs = [Job("broken", dt.timedelta(0), broken)]
    with caplog.at_level(logging.ERROR, logger="madoguchi.web.background"):
        jobs.start()

        async def ran_twice() -> bool:
            return len(rounds) >= 2

        await wait_for(ran_twice)
    assert jobs.running
    assert "background job 'broken' failed" in caplog.text
    await jobs.stop()
    assert not jobs.running


async def test_expired_drafts_are_purged_and_jobs_keep_their_pace(
    jobs: BackgroundJobs, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with unit_of_work(factory) as session:
        procedure = await procedures.get_procedure(session, SAPPORO, "change-of-address")
        for expires in (now - dt.timedelta(days=1), now + dt.timedelta(days=1)):
            session.add(
                Draft(
                    tenant_id=procedure.tenant_id,
                    procedure_id=procedure.id,
                    sealed="x",
                    updated_at=now,
                    expires_at=expires,
                )
            )
    await jobs.run_due(now)
    async with unit_of_work(factory) as session:
        left = list(await session.scalars(select(Draft)))
    assert len(left) == 1 and left[0].expires_at.replace(tzinfo=dt.UTC) > now

    purge = next(job for job in jobs.jobs if job.name == "expired drafts")
    assert purge.last_run == now
    await jobs.run_due(now + dt.timedelta(minutes=1))
    assert purge.last_run == now  # not due again for ten minutes
    await jobs.run_due(now + dt.timedelta(minutes=10))
    assert purge.last_run == now + dt.timedelta(minutes=10)


HOUR = dt.timedelta(hours=1)


async def test_expired_sessions_are_purged(
    jobs: BackgroundJobs, factory: async_sessionmaker[AsyncSession]
) -> None:
    now = dt.datetime.now(dt.UTC)
    async with unit_of_work(factory) as session:
        for name, expires in (("ended", now - dt.timedelta(seconds=1)), ("live", now + HOUR)):
            session.add(
                WebSession(
                    token_hash=name,
                    data={},
                    created_at=now - HOUR,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
    await jobs.run_due(now)
    async with unit_of_work(factory) as session:
        left = [row.token_hash for row in await session.scalars(select(WebSession))]
    assert left == ["live"]
