"""Exports stream: the memory they take does not grow with the number of submissions."""

from __future__ import annotations

import datetime as dt
import gc
import sys
import tracemalloc
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.ids import uuid7
from madoguchi.core.reference_numbers import check_character, format_reference
from madoguchi.procedures import service as procedures
from madoguchi.procedures.validation import check_answers
from madoguchi.submissions.exports import (
    MEDIA_TYPES,
    export_layout,
    submissions_in_own_session,
)
from madoguchi.submissions.models import Submission
from madoguchi.submissions.queries import STREAM_BATCH, Filters
from tests.submissions.export_support import CONSULTATION, OPEN_DAY, opinion

SMALL = 500  # already several batches of the cursor (STREAM_BATCH rows): the steady state


async def _insert(session: AsyncSession, start: int, count: int) -> None:
    """``count`` submissions in one bulk insert, each with its own reference and time."""
    procedure = await procedures.get_procedure(session, *CONSULTATION)
    now = await procedures.current(session, procedure)
    answers = check_answers(now.definition, opinion("山田 花子"), OPEN_DAY)
    first = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = [
        {
            "tenant_id": procedure.tenant_id,
            "id": uuid7(),
            "procedure_id": procedure.id,
            "version_tenant_id": now.version.tenant_id,
            "version_procedure_id": now.version.procedure_id,
            "version": now.version.version,
            "reference": _reference(number),
            "channel": "web",
            "answers": {**answers.answers, "name": f"山田 花子 {number}"},
            "computed": answers.computed,
            "language": "ja",
            "submitted_at": first + dt.timedelta(seconds=number),
        }
        for number in range(start, start + count)
    ]
    await session.execute(insert(Submission), rows)


def _reference(number: int) -> str:
    body = f"{number:08d}"
    return format_reference(body + check_character(body))


async def _export(factory: async_sessionmaker[AsyncSession], kind: str) -> tuple[int, int]:
    """The bytes exported and the peak memory allocated while exporting them."""
    async with factory() as session:
        procedure = await procedures.get_procedure(session, *CONSULTATION)
        layout = await export_layout(session, procedure)
    _, produce = MEDIA_TYPES[kind]
    rows = submissions_in_own_session(factory, procedure.tenant_id, procedure.id, Filters())
    gc.collect()  # garbage from before is not the export's
    tracemalloc.start()
    try:
        size = 0
        async for chunk in produce(layout, rows):
            size += len(chunk)
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _traced() -> bool:
    """Under coverage (any tracer), whose greenlet tracking keeps data for every greenlet
    SQLAlchemy makes: tracemalloc would count it as the export's. CI runs this test again
    without coverage, on PostgreSQL."""
    return sys.gettrace() is not None


@pytest.mark.skipif(_traced(), reason="a tracer (coverage) allocates per greenlet")
@pytest.mark.parametrize("kind", ["csv", "json", "xlsx"])
async def test_ten_times_the_submissions_take_no_more_memory(database_url: str, kind: str) -> None:
    small, large = SMALL, 10 * SMALL
    assert small >= 2 * STREAM_BATCH
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    try:
        async with unit_of_work(factory) as session:
            await _insert(session, 0, small)
        await _export(factory, kind)  # warm up: caches filled once per process are not growth
        small_size, small_peak = await _export(factory, kind)
        async with unit_of_work(factory) as session:
            await _insert(session, small, large - small)
        large_size, large_peak = await _export(factory, kind)
    finally:
        await engine.dispose()
    assert large_size > 5 * small_size  # the whole of the larger set was exported
    # Held in memory, 4,500 more submissions of ~1 KB each would add several megabytes.
    assert large_peak < small_peak * 1.25 + 512 * 1024, (small_peak, large_peak)
