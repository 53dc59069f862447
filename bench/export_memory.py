"""Exports of 100,000 submissions on PostgreSQL: time and peak memory per format, next to 10,000.

A fresh database is migrated and seeded (Sapporo adopts the national change-of-address
template), then 100,000 realistic submissions are bulk-inserted: the first 10,000 on one day, so
that the date filter the staff use picks them out. Each export then runs in a fresh child process
(so that ``ru_maxrss``, a process's high-water mark, belongs to that export alone), twice: once
plain, for the time and ``ru_maxrss``, and once under tracemalloc, for the peak of Python
allocations. Next to each format, in the same run: the same process before exporting (its
baseline ``ru_maxrss``) and the stream alone (reading the submissions without writing anything),
the floor every format stands on.

Flat memory means: the 100,000 figures match the 10,000 ones, while the bytes written grow
tenfold.

    uv run python bench/export_memory.py                       # about 3-5 minutes
    uv run python bench/export_memory.py --count 20000 --small 2000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

import common
from madoguchi import migrations
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.reference_numbers import check_character, format_reference
from madoguchi.procedures import service as procedures
from madoguchi.procedures.examples import sync_examples
from madoguchi.procedures.validation import check_answers
from madoguchi.submissions.exports import MEDIA_TYPES, export_layout, submissions_in_own_session
from madoguchi.submissions.models import Submission
from madoguchi.submissions.queries import Filters
from madoguchi.tenants import service as tenants

OWNER, SLUG = "011002", "change-of-address"  # Sapporo, adopting soumu's template
FIRST_DAY = dt.date(2026, 12, 1)
INSERT_CHUNK = 5_000
KINDS = ("stream", "csv", "json", "xlsx")
ANSWERS = {
    "moved_on": "令和8年11月20日",
    "address": {"postal_code": "060-0001", "street": "1-2-3", "building": "窓口マンション305"},
    "members": [
        {
            "member_name": {
                "family": "山田",
                "given": "太郎",
                "family_kana": "ヤマダ",
                "given_kana": "タロウ",
            },
            "member_birth": "昭和60年4月1日",
            "relationship": "spouse",
        }
    ],
}


def main() -> None:
    args = _arguments()
    if args.child:
        _child(args)
        return
    common.print_header("Exports of submissions: time and memory per format", args.admin_url)
    common.create_database(args.admin_url, args.database)
    try:
        url = common.sqlalchemy_url(args.admin_url, args.database)
        _prepare(url, args.count, args.small)
        _report(args, url)
    finally:
        common.drop_database(args.admin_url, args.database)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_export")
    parser.add_argument("--count", type=int, default=100_000, help="submissions in all")
    parser.add_argument("--small", type=int, default=10_000, help="the smaller export")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--only-first-day", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the database ---------------------------------------------------------------------------


def _prepare(url: str, count: int, small: int) -> None:
    started = time.perf_counter()
    migrations.upgrade(url)

    async def work() -> None:
        engine = create_engine(url)
        factory = create_session_factory(engine)
        try:
            async with unit_of_work(factory) as session:
                await tenants.sync_reference_data(session)
                await sync_examples(session)
            seeded = time.perf_counter()
            print(f"migrated and seeded in {seeded - started:.1f} s")
            async with factory() as session:
                make = await _row_maker(session, small)
            for start in range(0, count, INSERT_CHUNK):
                rows = [make(number) for number in range(start, min(count, start + INSERT_CHUNK))]
                async with unit_of_work(factory) as session:
                    await session.execute(insert(Submission), rows)
            print(f"{count:,} submissions inserted in {time.perf_counter() - seeded:.1f} s")
        finally:
            await engine.dispose()

    asyncio.run(work())


async def _row_maker(session: Any, small: int) -> Callable[[int], dict[str, Any]]:
    """Submission number n as a row: the first ``small`` on the first day, the rest after."""
    procedure = await procedures.get_procedure(session, OWNER, SLUG)
    now = await procedures.current(session, procedure)
    accepted = check_answers(now.definition, ANSWERS, FIRST_DAY)
    first = dt.datetime.combine(FIRST_DAY, dt.time(9), tzinfo=dt.timezone(dt.timedelta(hours=9)))

    def make(number: int) -> dict[str, Any]:
        day = 0 if number < small else 1 + number % 30
        address = {**accepted.answers["address"], "building": f"窓口マンション{number % 1000:03d}"}
        return {
            "tenant_id": procedure.tenant_id,
            "id": uuid.uuid4(),
            "procedure_id": procedure.id,
            "version_tenant_id": now.version.tenant_id,
            "version_procedure_id": now.version.procedure_id,
            "version": now.version.version,
            "reference": _reference(number),
            "channel": "web",
            "answers": {**accepted.answers, "address": address},
            "computed": accepted.computed,
            "language": "ja",
            "submitted_at": first + dt.timedelta(days=day, seconds=number % 30_000),
        }

    return make


def _reference(number: int) -> str:
    body = f"{number:08d}"
    return format_reference(body + check_character(body))


# --- measuring, in a child process per export ---------------------------------------------


def _report(args: argparse.Namespace, url: str) -> None:
    table = []
    for kind in KINDS:
        for rows, first_day in ((args.small, True), (args.count, False)):
            plain = _run_child(kind, url, first_day, traced=False)
            traced = _run_child(kind, url, first_day, traced=True)
            table.append(
                [
                    kind,
                    f"{plain['rows']:,}",
                    f"{plain['bytes'] / 1e6:.1f} MB",
                    f"{plain['seconds']:.1f} s",
                    f"{plain['rows'] / plain['seconds']:,.0f}/s",
                    f"{traced['peak'] / 1e6:.1f} MB",
                    f"{plain['baseline_rss'] / 1024:.0f} MB",
                    f"{plain['rss'] / 1024:.0f} MB",
                ]
            )
            if plain["rows"] != rows:
                raise SystemExit(f"{kind}: exported {plain['rows']} rows, expected {rows}")
            print(f"measured {kind} × {rows:,}: {plain['seconds']:.1f} s", flush=True)
    print()
    common.print_table(
        [
            "format",
            "submissions",
            "written",
            "time",
            "rate",
            "tracemalloc peak",
            "ru_maxrss before",
            "ru_maxrss after",
        ],
        table,
    )


def _run_child(kind: str, url: str, first_day: bool, *, traced: bool) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__)), "--child", kind, "--url", url]
    command += ["--only-first-day"] * first_day + ["--tracemalloc"] * traced
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(args: argparse.Namespace) -> None:
    async def work() -> dict[str, Any]:
        engine = create_engine(args.url)
        factory = create_session_factory(engine)
        try:
            async with factory() as session:
                procedure = await procedures.get_procedure(session, OWNER, SLUG)
                layout = await export_layout(session, procedure)
            filters = Filters(submitted_to=FIRST_DAY) if args.only_first_day else Filters()
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            stream = submissions_in_own_session(factory, procedure.tenant_id, procedure.id, filters)
            if args.tracemalloc:
                tracemalloc.start()
            started = time.perf_counter()
            rows = size = 0
            if args.child == "stream":
                async for _submission in stream:
                    rows += 1
            else:
                counted = _Counted(stream)
                async for chunk in MEDIA_TYPES[args.child][1](layout, counted):
                    size += len(chunk)
                rows = counted.count
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
            return {
                "rows": rows,
                "bytes": size,
                "seconds": seconds,
                "peak": peak,
                "baseline_rss": baseline,
                "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        finally:
            await engine.dispose()

    print(json.dumps(asyncio.run(work())))


class _Counted:
    """Passes the submissions on, counting them."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.count = 0

    def __aiter__(self) -> _Counted:
        return self

    async def __anext__(self) -> Submission:
        submission: Submission = await self.stream.__anext__()
        self.count += 1
        return submission


if __name__ == "__main__":
    main()
