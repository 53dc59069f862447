"""Where a database-backed request's time goes, next to raw asyncpg doing the same queries.

api_throughput.py shows the endpoints that read PostgreSQL serving far fewer requests than the
bare endpoint. This script takes one of them (GET /api/v1/tenants/011002: a public body and its
wards) apart in a single process, on a fresh migrated and seeded database:

- raw asyncpg on one connection: BEGIN, the two prepared SELECTs, COMMIT (the limit);
- the same through madoguchi's engine and one unit of work (``core.db.create_engine``:
  ``pool_pre_ping=True``), then without the pre-ping, then with a new connection every time
  (what an overflowing pool does under load);
- the whole request through the ASGI app in-process (no sockets, no uvicorn), next to /healthz.

    uv run python bench/request_cost.py --iterations 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

import common
from madoguchi import migrations
from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.tenants import service
from madoguchi.web.app import create_app

TENANT = "011002"  # Sapporo: a designated city with 10 wards


@dataclass
class Cost:
    label: str
    wall_us: list[float]
    cpu_us: float

    @property
    def mean_us(self) -> float:
        return sum(self.wall_us) / len(self.wall_us)


def main() -> None:
    args = _arguments()
    common.print_header("the cost of one database-backed request, taken apart", args.admin_url)
    common.create_database(args.admin_url, args.database)
    try:
        url = common.sqlalchemy_url(args.admin_url, args.database)
        migrations.upgrade(url)
        run_in_unit_of_work(service.sync_reference_data, url)
        costs = asyncio.run(_measure(args, url))
    finally:
        common.drop_database(args.admin_url, args.database)
    _report(costs, args.iterations)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000, help="per variant")
    parser.add_argument("--rounds", type=int, default=10, help="turns the variants take")
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_cost")
    args = parser.parse_args()
    if not 50 <= args.iterations <= 100_000 or not 1 <= args.rounds <= args.iterations:
        parser.error("--iterations must be in [50, 100000] and --rounds in [1, iterations]")
    common.check_name(args.database)
    return args


Operation = Callable[[], Awaitable[object]]


async def _interleaved(variants: list[tuple[str, Operation]], n: int, rounds: int) -> list[Cost]:
    """Each variant warmed up, then all of them timed in turns, ``rounds`` times ``n / rounds``
    operations each: a burst of noise on this shared machine then hits every variant alike."""
    for _, operation in variants:
        for _ in range(max(20, n // 10)):
            await operation()
    clock = time.perf_counter_ns
    spent: dict[str, list[float]] = {label: [] for label, _ in variants}
    cpu: dict[str, float] = dict.fromkeys(spent, 0.0)
    batch = max(1, n // rounds)
    for _ in range(rounds):
        for label, operation in variants:
            cpu_started = time.process_time()
            for _ in range(batch):
                started = clock()
                await operation()
                spent[label].append((clock() - started) / 1000)
            cpu[label] += time.process_time() - cpu_started
    return [Cost(label, spent[label], cpu[label] / len(spent[label]) * 1e6) for label in spent]


async def _get_tenant_and_wards(session: AsyncSession) -> None:
    tenant = await service.get_tenant(session, TENANT)
    await service.list_wards(session, tenant)


async def _measure(args: argparse.Namespace, url: str) -> list[Cost]:
    async with contextlib.AsyncExitStack() as stack:
        variants = [await _raw_asyncpg(common.asyncpg_dsn(args.admin_url, args.database), stack)]
        variants += await _through_sqlalchemy(url, stack)
        variants += await _through_the_app(url, stack)
        return await _interleaved(variants, args.iterations, args.rounds)


async def _raw_asyncpg(dsn: str, stack: contextlib.AsyncExitStack) -> tuple[str, Operation]:
    connection = await asyncpg.connect(dsn)
    stack.push_async_callback(connection.close)
    tenant = await connection.prepare("SELECT * FROM tenants WHERE code = $1")
    wards = await connection.prepare("SELECT * FROM areas WHERE tenant_id = $1 ORDER BY code")

    async def operation() -> None:
        async with connection.transaction():
            row = await tenant.fetchrow(TENANT)
            await wards.fetch(row["id"])

    return "raw asyncpg: BEGIN, 2 prepared SELECTs, COMMIT", operation


async def _through_sqlalchemy(
    url: str, stack: contextlib.AsyncExitStack
) -> list[tuple[str, Operation]]:
    engines = (
        ("madoguchi's engine (pool_pre_ping=True), one unit of work", create_engine(url)),
        ("the same engine without pool_pre_ping", create_async_engine(url)),
        (
            "a new connection per unit of work (pool overflow)",
            create_engine(url, poolclass=NullPool),
        ),
    )
    variants: list[tuple[str, Operation]] = []
    for label, engine in engines:
        stack.push_async_callback(engine.dispose)
        factory = create_session_factory(engine)

        async def operation(factory: async_sessionmaker[AsyncSession] = factory) -> None:
            async with unit_of_work(factory) as session:
                await _get_tenant_and_wards(session)

        variants.append((f"SQLAlchemy: {label}", operation))
    return variants


async def _through_the_app(
    url: str, stack: contextlib.AsyncExitStack
) -> list[tuple[str, Operation]]:
    settings = Settings(
        database_url=url,
        environment="production",
        secret_key=secrets.token_urlsafe(48),
        smtp_host="127.0.0.1",  # never used by the endpoints measured
        admin_password=secrets.token_urlsafe(24),
        log_level="WARNING",
    )
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app)
    client = await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://bench")
    )
    variants: list[tuple[str, Operation]] = []
    for label, path in (
        ("ASGI in-process: GET /healthz (bare)", "/healthz"),
        (f"ASGI in-process: GET /api/v1/tenants/{TENANT}", f"/api/v1/tenants/{TENANT}"),
    ):

        async def operation(path: str = path) -> None:
            response = await client.get(path)
            response.raise_for_status()

        variants.append((label, operation))
    return variants


def _report(costs: list[Cost], n: int) -> None:
    limit = costs[0].mean_us
    print(
        f"\nper operation, µs, over {n:,} operations of each, after warm-up, the variants "
        "taking turns; limit: raw asyncpg"
    )
    rows = []
    for cost in costs:
        spent = sorted(cost.wall_us)
        rows.append(
            (
                cost.label,
                f"{cost.mean_us:,.0f}",
                f"{common.percentile(spent, 0.5):,.0f}",
                f"{common.percentile(spent, 0.99):,.0f}",
                f"{cost.cpu_us:,.0f}",
                f"{cost.mean_us / limit:.1f}",
            )
        )
    common.print_table(("operation", "mean", "p50", "p99", "CPU (this process)", "× raw"), rows)
    by_label = {cost.label.split(":", 1)[1].strip(): cost for cost in costs}
    ping = by_label["madoguchi's engine (pool_pre_ping=True), one unit of work"].mean_us
    no_ping = by_label["the same engine without pool_pre_ping"].mean_us
    print(
        f"\npool_pre_ping adds {ping - no_ping:,.0f} µs per unit of work "
        f"({(ping - no_ping) / ping:.0%} of it): SQLAlchemy's asyncpg dialect pings with "
        "BEGIN; ROLLBACK around an empty statement, three round trips, on every checkout."
    )


if __name__ == "__main__":
    main()
