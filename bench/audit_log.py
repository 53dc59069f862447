"""The audit log under concurrent writers, on PostgreSQL, with its limit measured in the same run.

Writers append entries through ``identity.audit.append``, each in a transaction of its own (as a
request's unit of work does), for a fixed time:

- all writers on ONE chain (one tenant's busiest moment: every append waits for that chain's
  head row, so this is the serial ceiling the hash chain imposes);
- writers spread over 16 chains (16 tenants at once: the design's point is that they do not
  wait for each other);
- the limit: the same number of writers inserting a plain row of the same size, one transaction
  each, with no chain at all.

    uv run python bench/audit_log.py [--writers 16] [--seconds 10] [--admin-url URL]

It prints appends per second for each, and the chain's cost as a fraction of the plain insert.
Afterwards ``audit.verify`` must find every chain intact.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url

import common
from madoguchi import migrations
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.tenancy import enter_platform
from madoguchi.identity import audit

APP_ROLE = "madoguchi_app"
SECRET = "bench-secret-key-that-is-long-enough-for-the-checkpoint"  # noqa: S105  (throwaway)


async def _drive(writers: int, seconds: float, write: Callable[[int], Awaitable[None]]) -> int:
    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(index: int) -> None:
        while time.perf_counter() < deadline:
            await write(index)
            counts[index] += 1

    await asyncio.gather(*(writer(i) for i in range(writers)))
    return sum(counts)


async def measure(url: str, writers: int, seconds: float) -> dict[str, float]:
    """As the running app does: connected as the app's role, row-level security applying."""
    owner = create_engine(url)
    async with owner.begin() as connection:
        await connection.execute(
            text("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, writer int, subject text, "
                 "details jsonb, at timestamptz DEFAULT now())")
        )  # fmt: skip
        await connection.execute(text(f"GRANT INSERT ON bench_plain TO {APP_ROLE}"))
        await connection.execute(text(f"GRANT USAGE ON SEQUENCE bench_plain_id_seq TO {APP_ROLE}"))
    await owner.dispose()
    as_app = make_url(url).set(username=APP_ROLE, password=None)
    engine = create_engine(as_app.render_as_string(hide_password=False), pool_size=writers)
    factory = create_session_factory(engine)
    tenants = [uuid.uuid4() for _ in range(16)]

    async def chained(index: int, tenant: uuid.UUID) -> None:
        async with unit_of_work(factory) as db:
            await enter_platform(db, "benchmark")
            await audit.append(
                db, actor=f"bench:{index}", action="bench.append", tenant_id=tenant,
                subject=str(uuid.uuid4()), details={"writer": index},
            )  # fmt: skip

    async def plain(index: int) -> None:
        async with unit_of_work(factory) as db:
            await db.execute(
                text("INSERT INTO bench_plain (writer, subject, details) VALUES (:w, :s, :d)"),
                {"w": index, "s": str(uuid.uuid4()), "d": json.dumps({"writer": index})},
            )

    try:
        results = {
            "plain insert (the limit)": await _drive(writers, seconds, plain),
            "one chain": await _drive(writers, seconds, lambda i: chained(i, tenants[0])),
            "16 chains": await _drive(writers, seconds, lambda i: chained(i, tenants[i % 16])),
        }
        async with unit_of_work(factory) as db:
            await enter_platform(db, "benchmark")
            report = await audit.verify(db, SECRET)
        assert not report.problems, report.problems
    finally:
        await engine.dispose()
    return {name: count / seconds for name, count in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    arguments = parser.parse_args()
    common.print_header("audit log appends under concurrent writers", arguments.admin_url)
    database = common.check_name(f"madoguchi_bench_audit_{uuid.uuid4().hex[:8]}")
    common.create_database(arguments.admin_url, database)
    try:
        url = common.sqlalchemy_url(arguments.admin_url, database)
        migrations.upgrade(url)
        rates = asyncio.run(measure(url, arguments.writers, arguments.seconds))
    finally:
        common.drop_database(arguments.admin_url, database)
    limit = rates["plain insert (the limit)"]
    rows = [[name, f"{rate:,.0f}", f"{rate / limit:.2f}"] for name, rate in rates.items()]
    print(f"{arguments.writers} writers, {arguments.seconds:g} s each")
    common.print_table(["what", "per second", "of the limit"], rows)


if __name__ == "__main__":
    main()
