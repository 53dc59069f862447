"""Throughput and latency of the real server on PostgreSQL, next to a bare endpoint's.

Creates a fresh database, starts ``uv run madoguchi serve`` with production settings (it migrates
and seeds first), waits for /readyz, then drives each endpoint from a separate process — wrk
(``apt-get install wrk``) or, without it, bench/loadgen.py — for a bounded time, on loopback
only. For each endpoint it prints requests/s, p50/p95/p99 latency, errors, the CPU used by the
server, PostgreSQL and the load generator, and its throughput as a ratio of /healthz's in the
same run. The server is stopped with SIGTERM and the database dropped at the end, even on failure.

    uv run python bench/api_throughput.py --duration 10 --concurrency 32 --workers 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import common

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

ENDPOINTS = (
    ("bare endpoint /healthz", "/healthz"),
    ("tenants by prefecture", "/api/v1/tenants?prefecture=01&limit=20"),
    ("tenants by name (q=札幌)", "/api/v1/tenants?q=" + quote("札幌")),
    ("one tenant with wards", "/api/v1/tenants/011002"),
    ("postal code", "/api/v1/postal-codes/0600001"),
)
# What each endpoint must answer before it is measured: a wrong page served fast proves nothing.
EXPECTED = {
    "/healthz": '"ok"',
    "/api/v1/tenants?prefecture=01": '"total":180',
    "/api/v1/tenants?q=": "札幌市",
    "/api/v1/tenants/011002": '"wards":[{"code":"011011"',
    "/api/v1/postal-codes/0600001": "北一条西",
}

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "seconds": %.6f, "errors": %d, "non_2xx": %d,'
    .. ' "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.timeout + e.status, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class Result:
    label: str
    requests: int
    seconds: float
    errors: int
    p50_us: float
    p95_us: float
    p99_us: float
    server_cores: float
    postgres_cores: float
    loader_cores: float
    other_cores: float
    new_sessions: int
    transactions_per_request: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def main() -> None:
    args = _arguments()
    loader = "wrk" if args.loader == "auto" and shutil.which("wrk") else args.loader
    if loader == "auto":
        loader = "python"
    if loader == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (or use --loader python)")
    common.check_name(args.database)
    common.print_header("madoguchi API throughput on PostgreSQL", args.admin_url)
    print(
        f"server: madoguchi serve --workers {args.workers} (production settings, "
        f"log level {args.log_level}); load: {loader}, {args.concurrency} connections, "
        f"{args.duration:g} s per endpoint after {args.warmup:g} s warm-up, "
        f"{args.rounds} round(s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    common.create_database(args.admin_url, args.database)
    try:
        with _server(args, workdir) as (base_url, server_pid):
            results = _measure_all(args, loader, base_url, server_pid, workdir)
        _report(results, args.rounds)
    finally:
        common.drop_database(args.admin_url, args.database)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"database {args.database} dropped")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--rounds", type=int, default=1, help="passes over every endpoint")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="MADOGUCHI_LOG_LEVEL for the server; INFO logs every request (uvicorn.access)",
    )
    parser.add_argument("--start-timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not 0 < args.duration <= 300 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 300] and --warmup in [0, 60]")
    if not 1 <= args.concurrency <= 1024 or not 1 <= args.workers <= 16:
        parser.error("--concurrency must be in [1, 1024] and --workers in [1, 16]")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be in [1, 10]")
    return args


@contextlib.contextmanager
def _server(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    environment = {
        **os.environ,
        "MADOGUCHI_ENVIRONMENT": "production",
        "MADOGUCHI_SECRET_KEY": secrets.token_urlsafe(48),
        "MADOGUCHI_SMTP_HOST": "127.0.0.1",  # never used by the endpoints measured
        "MADOGUCHI_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "MADOGUCHI_DATABASE_URL": common.sqlalchemy_url(args.admin_url, args.database),
        "MADOGUCHI_DATA_DIR": str(workdir / "data"),
        "MADOGUCHI_LOG_LEVEL": args.log_level,
    }
    log_path = workdir / "server.log"
    command = ["uv", "run", "madoguchi", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        _wait_until_ready(base_url, process, log_path, args.start_timeout)
        print(f"server ready in {time.perf_counter() - started:.1f} s (migrate, seed, start)")
        yield base_url, process.pid
    finally:
        _stop(process, log_path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{_tail(log_path)}")
        with contextlib.suppress(OSError):
            status, _ = _get(base_url + "/readyz")
            if status == 200:
                return
        time.sleep(0.25)
    raise SystemExit(f"the server was not ready after {timeout:g} s:\n{_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """SIGTERM (uvicorn drains in-flight requests), then the whole group if it lingers."""
    if process.poll() is None:
        group = _descendants(process.pid) | {process.pid}
        started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
            print(
                f"server stopped by SIGTERM in {time.perf_counter() - started:.2f} s (exit {code})"
            )
        except subprocess.TimeoutExpired:
            print("server still running 30 s after SIGTERM: killing its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # A worker that outlived its parent would keep the port and the database: give the
        # group (workers, multiprocessing's resource tracker) 10 s to exit, then kill the rest.
        deadline = time.monotonic() + 10
        while (left := _still_running(group, process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                print(f"process {pid} outlived the server by 10 s and was killed")
    if process.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        print(f"server log (last lines):\n{_tail(log_path)}")


def _still_running(pids: set[int], group: int) -> set[int]:
    """Those of ``pids`` still alive (not zombies) in process group ``group``."""
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            alive.add(pid)
    return alive


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _check_answer(base_url: str, path: str) -> None:
    status, body = _get(base_url + path)
    expected = next(text for prefix, text in EXPECTED.items() if path.startswith(prefix))
    if status != 200 or expected not in body:
        raise SystemExit(f"{path} answered {status} without {expected!r}: {body[:300]}")


def _measure_all(
    args: argparse.Namespace, loader: str, base_url: str, server_pid: int, workdir: Path
) -> list[Result]:
    script = workdir / "report.lua"
    script.write_text(WRK_REPORT)
    # The bare endpoint is measured first and again last: the spread shows the machine's noise.
    # With several rounds each endpoint's figures are the median of its rounds.
    plan = [*ENDPOINTS, ("bare endpoint /healthz (again)", "/healthz")] * args.rounds
    first = []
    for label, path in ENDPOINTS:
        started = time.perf_counter()
        _check_answer(base_url, path)
        first.append(f"{label} {(time.perf_counter() - started) * 1000:.0f} ms")
    # The first request a fresh server process answers pays for whatever it builds lazily.
    print("first request after start: " + "; ".join(first), flush=True)
    results = []
    for label, path in plan:
        if args.warmup:
            _load(loader, base_url + path, args.warmup, args.concurrency, script)
        stats_before = _database_counters(args)
        before = _process_table()
        machine_before = _machine_busy()
        loader_before = _children_cpu()
        raw = _load(loader, base_url + path, args.duration, args.concurrency, script)
        loader_cpu = _children_cpu() - loader_before
        server_cpu, postgres_cpu = _cpu_since(before, server_pid)
        machine_cpu = _machine_busy() - machine_before
        others = max(0.0, machine_cpu - server_cpu - postgres_cpu - loader_cpu)
        time.sleep(1.2)  # backends publish their statistics at most once a second
        stats_after = _database_counters(args)
        seconds = float(raw["seconds"])
        results.append(
            Result(
                label=label,
                requests=int(raw["requests"]),
                seconds=seconds,
                errors=int(raw["errors"]),
                p50_us=float(raw["p50_us"]),
                p95_us=float(raw["p95_us"]),
                p99_us=float(raw["p99_us"]),
                server_cores=server_cpu / seconds,
                postgres_cores=postgres_cpu / seconds,
                loader_cores=loader_cpu / seconds,
                other_cores=others / seconds,
                new_sessions=stats_after[0] - stats_before[0],
                transactions_per_request=(stats_after[1] - stats_before[1])
                / max(1, int(raw["requests"])),
            )
        )
        print(f"  measured {label}: {results[-1].rps:,.0f} requests/s", flush=True)
    return results


def _load(
    loader: str, url: str, duration: float, concurrency: int, script: Path
) -> dict[str, float]:
    if loader == "wrk":
        command = ["wrk", "--threads", "1", "--connections", str(concurrency)]
        command += ["--duration", f"{max(1, round(duration))}s", "--timeout", "10s"]
        command += ["--script", str(script), url]
        marker = "WRK-JSON "
    else:
        command = [sys.executable, str(Path(__file__).with_name("loadgen.py")), url]
        command += ["--duration", str(duration), "--concurrency", str(concurrency)]
        marker = ""
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    )
    for line in completed.stdout.splitlines():
        if line.startswith(marker) and line[len(marker) :].startswith("{"):
            return dict(json.loads(line[len(marker) :]))
    raise SystemExit(f"no report from {command[0]}:\n{completed.stdout}\n{completed.stderr}")


def _database_counters(args: argparse.Namespace) -> tuple[int, int]:
    """(sessions opened, transactions ended) on the bench database, from pg_stat_database."""
    row = common.fetch_row(
        args.admin_url,
        "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
        args.database,
    )
    return int(str(row[0])), int(str(row[1]))


def _machine_busy() -> float:
    """CPU seconds spent by the whole machine (all cores, anything not idle), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_table() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds used) for every process we may read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        table[int(entry)] = (int(fields[1]), name, cpu)
    return table


def _descendants(root: int, table: dict[int, tuple[int, str, float]] | None = None) -> set[int]:
    table = table if table is not None else _process_table()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (parent, _, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _cpu_since(before: dict[int, tuple[int, str, float]], server_pid: int) -> tuple[float, float]:
    """CPU seconds used since ``before`` by the server's processes and by PostgreSQL's."""
    after = _process_table()
    server = _descendants(server_pid, after) | {server_pid}

    def used(pid: int) -> float:
        earlier = before.get(pid)
        now = after[pid][2]
        return now - earlier[2] if earlier and earlier[1] == after[pid][1] else now

    server_cpu = sum(used(pid) for pid in server if pid in after)
    postgres_cpu = sum(used(pid) for pid, (_, name, _) in after.items() if name == "postgres")
    return server_cpu, postgres_cpu


def _median_by_endpoint(results: list[Result]) -> list[tuple[Result, float, float]]:
    """Per endpoint, in plan order: the median of its rounds, and its slowest and fastest rps."""
    by_label: dict[str, list[Result]] = {}
    for result in results:
        by_label.setdefault(result.label, []).append(result)
    merged = []
    for label, rounds in by_label.items():

        def mid(values: list[float]) -> float:
            return statistics.median(values)

        rps = [r.rps for r in rounds]
        seconds = mid([r.seconds for r in rounds])
        median = Result(
            label=label,
            requests=round(mid(rps) * seconds),
            seconds=seconds,
            errors=sum(r.errors for r in rounds),
            p50_us=mid([r.p50_us for r in rounds]),
            p95_us=mid([r.p95_us for r in rounds]),
            p99_us=mid([r.p99_us for r in rounds]),
            server_cores=mid([r.server_cores for r in rounds]),
            postgres_cores=mid([r.postgres_cores for r in rounds]),
            loader_cores=mid([r.loader_cores for r in rounds]),
            other_cores=mid([r.other_cores for r in rounds]),
            new_sessions=round(mid([r.new_sessions for r in rounds])),
            transactions_per_request=mid([r.transactions_per_request for r in rounds]),
        )
        merged.append((median, min(rps), max(rps)))
    return merged


def _report(results: list[Result], rounds: int) -> None:
    merged = _median_by_endpoint(results)
    bare = statistics.median(r.rps for r in results if r.label.startswith("bare"))
    print()
    if rounds > 1:
        print(f"median of {rounds} rounds per endpoint; errors summed over the rounds")
    common.print_table(
        (
            "endpoint",
            "requests/s",
            "range",
            "× bare",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            "server cores",
            "postgres cores",
            "loader cores",
            "other cores",
            "PG sessions opened",
            "PG transactions / request",
        ),
        [
            (
                r.label,
                f"{r.rps:,.0f}",
                f"{low:,.0f}–{high:,.0f}",
                f"{r.rps / bare:.2f}" if bare else "-",
                f"{r.p50_us / 1000:.2f}",
                f"{r.p95_us / 1000:.2f}",
                f"{r.p99_us / 1000:.2f}",
                f"{r.errors}",
                f"{r.server_cores:.2f}",
                f"{r.postgres_cores:.2f}",
                f"{r.loader_cores:.2f}",
                f"{r.other_cores:.2f}",
                f"{r.new_sessions}",
                f"{r.transactions_per_request:.2f}",
            )
            for r, low, high in merged
        ],
    )
    print(
        f"\nlimit: the bare endpoint in this run, {bare:,.0f} requests/s (median of all its "
        "measurements: same server, middleware and connections, no database); a ratio near 1 "
        "means the endpoint costs little beyond the framework.\n"
        "range: slowest and fastest round. cores: CPU seconds used per second of the run "
        "(server = all its processes; other = the rest of the machine: noise). "
        "PG sessions opened: new connections to the bench database during the run (pool "
        "churn); PG transactions / request: commits + rollbacks per request, from "
        "pg_stat_database (published about once a second, so approximate)."
    )
    if any(r.errors for r in results):
        print("ERRORS: some requests failed; the figures above are not a clean measurement.")


if __name__ == "__main__":
    main()
