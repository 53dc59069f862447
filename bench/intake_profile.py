"""Where an intake request's time goes, in process: timed, taken apart, then under cProfile.

bench/intake.py calls ``profile`` after its loads, on the same database. The app is built with
``create_app`` and production settings and called through httpx's ASGI transport (no sockets, no
uvicorn), one request at a time, so whatever CPU the process spends during a request is that
request's (and httpx's client side, outside the app):

1. timed without instruments: the intake, madoguchi's /healthz (the framework, no database) and
   raw asyncpg inserting the same body on one connection (the database's part), wall and CPU;
2. taken apart: the functions a request passes through are wrapped, in this process only, with
   timers of wall-clock and CPU time (``Spans``); a span counts its outermost call only, so a
   recursive parser is not counted twice. Rows include the rows indented below them; wall minus
   CPU is waiting, mostly for PostgreSQL. cProfile cannot do this: it loses coroutines at each
   ``await`` and SQLAlchemy's greenlet switches;
3. the SQL one request sends (SQLAlchemy's ``before_cursor_execute``);
4. cProfile with a CPU clock: own time by package and by function, which do add up.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import functools
import inspect
import pstats
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import starlette.routing
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import asyncpg as sqlalchemy_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import base as pool_base

import common
from madoguchi.core.settings import Settings
from madoguchi.procedures import answers, validation
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition
from madoguchi.submissions import api, service
from madoguchi.web.app import create_app

WARMUP = 50
Operation = Callable[[], Awaitable[None]]


@dataclass
class Span:
    wall: float = 0.0
    cpu: float = 0.0
    calls: int = 0
    depth: int = 0


@dataclass
class Spans:
    """Timers wrapped around functions (sync or async) by owner and attribute name."""

    spans: dict[str, Span] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def wrapped(self, plan: list[tuple[str, Any, str]]) -> Iterator[None]:
        originals = []
        for label, owner, name in plan:
            if not hasattr(owner, name):  # the code moved on: leave the row out
                self.missing.append(label.strip())
                continue
            # A class's own attribute is taken raw (a classmethod stays one); an inherited
            # one is shadowed by the timer, then deleted again.
            own = not isinstance(owner, type) or name in vars(owner)
            raw = vars(owner)[name] if isinstance(owner, type) and own else getattr(owner, name)
            originals.append((owner, name, raw, own))
            setattr(owner, name, self._timer(label, raw))
        try:
            yield
        finally:
            for owner, name, raw, own in reversed(originals):
                if own:
                    setattr(owner, name, raw)
                else:
                    delattr(owner, name)

    def _timer(self, label: str, raw: Any) -> Any:
        kind = classmethod if isinstance(raw, classmethod) else None
        function = raw.__func__ if kind else raw
        span = self.spans.setdefault(label, Span())
        self.order.append(label)

        def enter() -> tuple[float, float]:
            span.depth += 1
            return time.perf_counter(), time.process_time()

        def leave(started: tuple[float, float]) -> None:
            span.depth -= 1
            if span.depth == 0:
                span.calls += 1
                span.wall += time.perf_counter() - started[0]
                span.cpu += time.process_time() - started[1]

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = enter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    leave(started)

            timed: Any = timed_async
        else:

            @functools.wraps(function)
            def timed_sync(*args: Any, **kwargs: Any) -> Any:
                started = enter()
                try:
                    return function(*args, **kwargs)
                finally:
                    leave(started)

            timed = timed_sync
        return classmethod(timed) if kind else timed


def _plan() -> list[tuple[str, Any, str]]:
    """What to time, outermost first; two spaces of indent per level of nesting."""
    plan: list[tuple[str, Any, str]] = [
        ("request: the whole app (FastAPI.__call__)", FastAPI, "__call__"),
        ("  router and endpoint (Router.__call__)", starlette.routing.Router, "__call__"),
        ("    dependencies: the unit of work opened", fastapi_routing, "solve_dependencies"),
        ("    the route function (submit_answers)", fastapi_routing, "run_endpoint_function"),
        ("      read the body, decode JSON", api, "_json_body"),
        ("      the procedure by id", procedures, "get_procedure_by_id"),
        ("      its current version", procedures, "current"),
        ("        the definition re-validated from JSON", Definition, "model_validate"),
        ("      check_answers: parsers and logic", api, "check_answers"),
        ("        unknown answers", validation, "_unknown_answers"),
        ("        parsers (parse_given)", validation, "parse_given"),
        ("        logic: walk (path, answers kept, outcome)", validation, "walk"),
        ("        logic: prune", validation, "prune"),
        ("        logic: missing_required", validation, "missing_required"),
        ("        logic: computed_values", validation, "computed_values"),
        ("      request hash (_canonical_hash)", api, "_canonical_hash"),
        ("      an earlier submission with this key? (replay_of)", service, "replay_of"),
        ("      submit: row, reference, audit record", service, "submit"),
        ("        INSERT in a SAVEPOINT (AsyncSession.flush)", AsyncSession, "flush"),
        ("        webhooks to notify (enqueue_deliveries)", service, "enqueue_deliveries"),
        ("      the receipt (_receipt)", api, "_receipt"),
        ("    commit (AsyncSession.commit)", AsyncSession, "commit"),
        ("across the request: every ORM flush (Session.flush)", Session, "flush"),
        (
            "across the request: connection checkout + pool_pre_ping",
            pool_base._ConnectionFairy,
            "_checkout",
        ),
        (
            "across the request: SQL statements through the asyncpg adapter",
            sqlalchemy_asyncpg.AsyncAdapt_asyncpg_cursor,
            "_prepare_and_execute",
        ),
    ]
    parsers = [
        (f"across the request: the {kind} parser", answers.PARSERS, kind)
        for kind in sorted(answers.PARSERS)
    ]
    return plan + parsers


class _Mapping:
    """setattr/getattr over a dict, so ``Spans.wrapped`` can wrap the parser registry."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self.__dict__["_mapping"] = mapping

    def __getattr__(self, name: str) -> Any:
        return self._mapping[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self._mapping[name] = value


def profile(url: str, procedure_id: str, body: bytes, requests: int) -> None:
    asyncio.run(_profile(url, procedure_id, body, requests))


async def _profile(url: str, procedure_id: str, body: bytes, n: int) -> None:
    app = create_app(Settings())  # the MADOGUCHI_* environment intake.py set: production
    path = f"/api/v1/procedures/{procedure_id}/submissions"
    headers = {"content-type": "application/json"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def intake() -> None:
                response = await client.post(path, content=body, headers=headers)
                if response.status_code != 201:
                    raise SystemExit(f"in-process intake answered {response.status_code}")

            async def healthz() -> None:
                (await client.get("/healthz")).raise_for_status()

            timings = [
                await _timed("intake", intake, n),
                await _timed("/healthz (the framework, no database)", healthz, n),
                await _timed("raw asyncpg INSERT of the same body", await _raw(url, body), n),
            ]
            spans = await _spans(intake, n)
            statements = await _statements(app.state.engine, intake)
            stats = await _profiled(intake, n)
    _print_timings(timings, n)
    _print_spans(spans, n, timings[0])
    print(
        f"\nthe SQL of one intake request ({len(statements)} statements through cursors; "
        "the pool's pre-ping and BEGIN/COMMIT come on top):"
    )
    for statement in statements:
        print(f"  {' '.join(statement.split())[:110]}")
    _print_own_time(stats, n)


async def _raw(url: str, body: bytes) -> Operation:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    insert = await connection.prepare("INSERT INTO raw_intake (body) VALUES ($1) RETURNING id")
    text = body.decode()

    async def operation() -> None:
        await insert.fetchval(text)

    return operation


@dataclass
class Timing:
    label: str
    wall_us: list[float]
    cpu_us: float


async def _timed(label: str, operation: Operation, n: int) -> Timing:
    for _ in range(WARMUP):
        await operation()
    wall = []
    cpu_started = time.process_time()
    for _ in range(n):
        started = time.perf_counter_ns()
        await operation()
        wall.append((time.perf_counter_ns() - started) / 1000)
    return Timing(label, wall, (time.process_time() - cpu_started) / n * 1e6)


async def _spans(operation: Operation, n: int) -> Spans:
    spans = Spans()
    plan = [
        (label, _Mapping(owner) if isinstance(owner, dict) else owner, name)
        for label, owner, name in _plan()
    ]
    with spans.wrapped(plan):
        for _ in range(n):
            await operation()
    return spans


async def _statements(engine: Any, operation: Operation) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await operation()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _profiled(operation: Operation, n: int) -> pstats.Stats:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(n):
        await operation()
    profiler.disable()
    return pstats.Stats(profiler)


def _print_timings(timings: list[Timing], n: int) -> None:
    print(f"\nin process, {n} of each after {WARMUP} to warm up, one at a time (µs)")
    rows = []
    for timing in timings:
        wall = sorted(timing.wall_us)
        rows.append(
            (
                timing.label,
                f"{sum(wall) / len(wall):,.0f}",
                f"{common.percentile(wall, 0.5):,.0f}",
                f"{common.percentile(wall, 0.99):,.0f}",
                f"{timing.cpu_us:,.0f}",
            )
        )
    common.print_table(("operation", "mean", "p50", "p99", "CPU (this process)"), rows)


def _print_spans(spans: Spans, n: int, intake: Timing) -> None:
    whole = spans.spans["request: the whole app (FastAPI.__call__)"]
    router = spans.spans["  router and endpoint (Router.__call__)"]
    timed_calls = sum(span.calls for span in spans.spans.values()) / n
    print(
        f"\none intake request taken apart, per request over {n}: wall and CPU µs of each part "
        f"({timed_calls:.0f} timed calls per request, each adding about a microsecond; "
        f"untimed, the whole request took {intake.cpu_us:,.0f} µs of CPU, httpx included)"
    )
    rows = []
    for label in spans.order:
        span = spans.spans[label]
        if not span.calls:
            continue
        rows.append(
            (
                label,
                f"{span.calls / n:.1f}",
                f"{span.wall / n * 1e6:,.0f}",
                f"{span.cpu / n * 1e6:,.0f}",
                f"{span.cpu / whole.cpu:.0%}",
            )
        )
        if label == "request: the whole app (FastAPI.__call__)":
            rows.append(
                (
                    "  middleware, error layers (the app − the router)",
                    "",
                    f"{(whole.wall - router.wall) / n * 1e6:,.0f}",
                    f"{(whole.cpu - router.cpu) / n * 1e6:,.0f}",
                    f"{(whole.cpu - router.cpu) / whole.cpu:.0%}",
                )
            )
    common.print_table(("part", "calls / request", "wall µs", "CPU µs", "CPU share"), rows)
    if spans.missing:
        print(f"(not in this version of the code: {'; '.join(spans.missing)})")


def _package(filename: str) -> str:
    """madoguchi's domain, a third-party package, the standard library, or built-in code."""
    if filename.startswith(("~", "<")):
        return "built-in functions (C)"
    if "/madoguchi/" in filename and "site-packages" not in filename:
        return "madoguchi." + filename.split("/madoguchi/", 1)[1].split("/")[0].removesuffix(".py")
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    return "Python standard library"


def _print_own_time(stats: pstats.Stats, n: int) -> None:
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(stat[2] for stat in entries.values())
    by_package: dict[str, float] = {}
    for (filename, _, _), stat in entries.items():
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + stat[2]
    print(
        f"\ncProfile (CPU clock) over {n} intake requests, httpx's client side included: "
        "own time by package"
    )
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:12]
    common.print_table(("package", "share"), [(name, f"{t / total:.1%}") for name, t in ranked])
    print("\nthe functions with the most own time")
    top = sorted(entries.items(), key=lambda item: -item[1][2])[:20]
    common.print_table(
        ("function", "calls / request", "share"),
        [
            (
                f"{_package(name[0])}: {name[2]} ({name[0].rsplit('/', 1)[-1]}:{name[1]})",
                f"{stat[1] / n:.1f}",
                f"{stat[2] / total:.1%}",
            )
            for name, stat in top
        ],
    )
