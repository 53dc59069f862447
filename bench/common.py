"""Helpers shared by the benchmark scripts: the machine, throwaway PostgreSQL databases, tables.

The scripts run as ``uv run python bench/NAME.py``; Python puts bench/ on the path, so they
import this module as ``common``.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import unicodedata
from collections.abc import Sequence

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def print_header(title: str, admin_url: str) -> None:
    """What was measured, on what machine, database and commit: the first lines of every run."""
    print(f"# {title}")
    print(f"machine: {machine_summary()}")
    print(f"PostgreSQL {server_version(admin_url)}; commit {git_revision()}")


def machine_summary() -> str:
    """One line: cores, CPU model, memory, Python and the OS, as the results depend on them."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} memory, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def server_version(admin_url: str) -> str:
    try:
        return _run_admin(admin_url, "SHOW server_version", fetch=True) or "?"
    except (OSError, asyncpg.PostgresError) as error:
        return f"unreachable ({type(error).__name__})"


def check_name(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise SystemExit(f"{name!r} is not a plain database name (a-z, 0-9, _)")
    return name


def create_database(admin_url: str, name: str) -> None:
    """A fresh, empty database: any leftover of that name from an earlier run is dropped."""
    drop_database(admin_url, name)
    _run_admin(admin_url, f'CREATE DATABASE "{check_name(name)}"')


def drop_database(admin_url: str, name: str) -> None:
    _run_admin(admin_url, f'DROP DATABASE IF EXISTS "{check_name(name)}" WITH (FORCE)')


def sqlalchemy_url(admin_url: str, database: str) -> str:
    """The asyncpg SQLAlchemy URL of ``database`` on the admin URL's server."""
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


def asyncpg_dsn(admin_url: str, database: str | None) -> str:
    url = make_url(admin_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


def _run_admin(admin_url: str, statement: str, *, fetch: bool = False) -> str | None:
    async def run() -> str | None:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url, make_url(admin_url).database))
        try:
            if fetch:
                return str(await connection.fetchval(statement))
            await connection.execute(statement)
            return None
        finally:
            await connection.close()

    return asyncio.run(run())


def fetch_row(admin_url: str, query: str, *args: object) -> tuple[object, ...]:
    """One row of a query on the admin database."""

    async def run() -> tuple[object, ...]:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url, make_url(admin_url).database))
        try:
            row = await connection.fetchrow(query, *args)
        finally:
            await connection.close()
        return tuple(row) if row is not None else ()

    return asyncio.run(run())


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain, aligned table (also valid Markdown) on standard output."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def git_revision() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return result.stdout.strip()


def fetch_value(admin_url: str, database: str, query: str, *args: object) -> object:
    """The first column of the first row of a query on ``database`` (a bench database)."""

    async def run() -> object:
        connection = await asyncpg.connect(asyncpg_dsn(admin_url, database))
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())
