"""The loads of bench/intake.py: wrk at peak, loadgen.py at a fixed rate, rows counted after.

wrk drives each endpoint with a Lua script that sends the same request and counts the answers
with the expected status (201, or 200 for /healthz). wrk stops at its deadline without waiting for
requests in flight; the server finishes and commits them, so after a wrk run the database holds
the 201s wrk counted plus at most one request per connection. loadgen.py's open loop awaits every
request it sent, so after it the rows added equal the 201s counted, exactly.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import api_throughput as throughput
import common

BENCH = Path(__file__).resolve().parent
LUA = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{body}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
wanted, other = 0, 0
function response(status, headers, body)
  if status == {status} then wanted = wanted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local w, o = 0, 0
  for _, thread in ipairs(threads) do w = w + thread:get("wanted"); o = o + thread:get("other") end
  local e = summary.errors
  io.write(string.format('WRK-JSON {{"requests": %d, "seconds": %.6f, "errors": %d, '
    .. '"wanted": %d, "other_status": %d, "p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout + o,
    w, o, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Database:
    admin_url: str
    name: str

    def count(self, query: str, *params: object) -> int:
        return int(str(common.fetch_value(self.admin_url, self.name, query, *params)))

    def settled_count(self, query: str) -> int:
        """The count once requests still in flight have landed: the same twice, 0.5 s apart."""
        last = -1
        while (now := self.count(query)) != last:
            last = now
            time.sleep(0.5)
        return now


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    script: Path
    server_pid: int
    count_query: str | None  # the rows each expected answer adds; None: it stores nothing


@dataclass
class Peak:
    target: Target
    requests: int
    seconds: float
    errors: int
    wanted: int  # expected answers, warm-up included (the rows were added by both)
    rows_added: int | None
    p50_us: float
    p99_us: float
    server_cores: float
    postgres_cores: float
    loader_cores: float
    other_cores: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def in_flight_at_stop(self) -> int:
        """Rows that wrk's dropped requests added: 0 ≤ this ≤ 2 × connections (two runs)."""
        return 0 if self.rows_added is None else self.rows_added - self.wanted


def make_target(
    workdir: Path, label: str, url: str, server_pid: int, count_query: str | None
) -> Target:
    script = workdir / f"target{len(list(workdir.glob('target*.lua')))}.lua"
    if count_query is None:
        text = LUA.format(method="GET", body="", status=200)
    else:
        read = f'local f = assert(io.open("{workdir / "body.json"}", "rb"))\n'
        text = LUA.format(
            method="POST", body=read + 'wrk.body = f:read("*a")\nf:close()', status=201
        )
    script.write_text(text, encoding="utf-8")
    return Target(label, url, script, server_pid, count_query)


def peak(
    target: Target, database: Database, warmup: float, duration: float, connections: int
) -> Peak:
    """wrk's warm-up and measured runs; CPU used by each party during the measured one."""
    counting = target.count_query is not None
    rows_before = database.settled_count(target.count_query) if target.count_query else 0
    warm = wrk(target, warmup, connections)["wanted"] if warmup else 0
    processes, machine = throughput._process_table(), throughput._machine_busy()
    loader_before = throughput._children_cpu()
    result = wrk(target, duration, connections)
    loader = throughput._children_cpu() - loader_before
    server, postgres = throughput._cpu_since(processes, target.server_pid)
    others = max(0.0, throughput._machine_busy() - machine - server - postgres - loader)
    rows_after = database.settled_count(target.count_query) if target.count_query else 0
    seconds = float(result["seconds"])
    return Peak(
        target=target,
        requests=int(result["requests"]),
        seconds=seconds,
        errors=int(result["errors"]),
        wanted=int(warm + result["wanted"]),
        rows_added=rows_after - rows_before if counting else None,
        p50_us=float(result["p50_us"]),
        p99_us=float(result["p99_us"]),
        server_cores=server / seconds,
        postgres_cores=postgres / seconds,
        loader_cores=loader / seconds,
        other_cores=others / seconds,
    )


def wrk(target: Target, duration: float, connections: int) -> dict[str, float]:
    command = ["wrk", "--threads", "1", "--connections", str(connections), "--timeout", "10s"]
    command += ["--duration", f"{max(1, round(duration))}s", "--script", str(target.script)]
    completed = subprocess.run(
        [*command, target.url], capture_output=True, text=True, check=True, timeout=duration + 60
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            return dict(json.loads(line.removeprefix("WRK-JSON ")))
    raise SystemExit(f"no report from wrk:\n{completed.stdout}\n{completed.stderr}")


def fixed_rate(
    target: Target,
    database: Database,
    body: Path,
    rate: float,
    duration: float,
    connections: int,
    record_to: Path | None = None,
) -> dict[str, object]:
    """loadgen.py, open loop at ``rate``: every request it sent is answered before it ends.

    With ``record_to``, the ``reference`` of every 201 answer is written there."""
    assert target.count_query is not None
    before = database.count(target.count_query)
    command = [sys.executable, str(BENCH / "loadgen.py"), target.url, "--method", "POST"]
    command += ["--body-file", str(body), "--rate", f"{rate:.3f}", "--duration", str(duration)]
    command += ["--concurrency", str(connections)]
    if record_to is not None:
        command += ["--record-field", "reference", "--record-to", str(record_to)]
    processes, loader_before = throughput._process_table(), throughput._children_cpu()
    machine = throughput._machine_busy()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 120
    )
    server, postgres = throughput._cpu_since(processes, target.server_pid)
    loader = throughput._children_cpu() - loader_before
    others = max(0.0, throughput._machine_busy() - machine - server - postgres - loader)
    summary: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    seconds = float(str(summary["seconds"]))
    summary["rows_added"] = database.count(target.count_query) - before
    summary["server_cores"] = server / seconds
    summary["postgres_cores"] = postgres / seconds
    summary["loader_cores"] = loader / seconds
    summary["other_cores"] = others / seconds
    return summary


def preflight(intake_url: str, body: bytes) -> str:
    """One valid submission (201 with a reference) and one invalid (422 problem+json), so the
    load measures the real thing, not an error served fast. Returns the reference."""
    status, answer = post(intake_url, body)
    if status != 201 or "reference" not in answer:
        raise SystemExit(f"the intake answered {status}, not 201 with a reference: {answer[:500]}")
    wrong = json.loads(body)
    wrong["answers"] |= {"email": "hanako.yamada@", "children": []}
    status, problem = post(intake_url, json.dumps(wrong).encode())
    if status != 422 or '"errors"' not in problem:
        raise SystemExit(f"invalid answers got {status}, not 422 problem+json: {problem[:500]}")
    return str(json.loads(answer)["reference"])


def post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310  loopback only
        url, data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def ms(microseconds: object) -> str:
    return f"{float(str(microseconds)) / 1000:.1f}"


def _medians(peaks: list[Peak]) -> dict[str, dict[str, float]]:
    by_label: dict[str, list[Peak]] = {}
    for found in peaks:
        by_label.setdefault(found.target.label, []).append(found)
    fields = (
        "rps",
        "p50_us",
        "p99_us",
        "server_cores",
        "postgres_cores",
        "loader_cores",
        "other_cores",
    )
    return {
        label: {
            **{name: statistics.median(getattr(p, name) for p in runs) for name in fields},
            "low": min(p.rps for p in runs),
            "high": max(p.rps for p in runs),
            "errors": sum(p.errors for p in runs),
        }
        for label, runs in by_label.items()
    }


def print_peaks(peaks: list[Peak], concurrency: int, rounds: int) -> dict[str, dict[str, float]]:
    """The peak table, each endpoint's median over its rounds; returns the medians."""
    medians = _medians(peaks)
    limit = medians["raw limit: asyncpg INSERT"]["rps"]
    print(
        f"\npeak throughput, wrk, {concurrency} connections; median of {rounds} "
        "round(s); CPU in cores (CPU seconds per second), and per request in ms"
    )
    common.print_table(
        (
            "endpoint",
            "requests/s",
            "range",
            "× raw limit",
            "p50 ms",
            "p99 ms",
            "errors",
            "server cores",
            "postgres cores",
            "wrk cores",
            "other cores",
            "server CPU ms / req",
            "postgres CPU ms / req",
        ),
        [
            (
                label,
                f"{m['rps']:,.0f}",
                f"{m['low']:,.0f}–{m['high']:,.0f}",
                f"{m['rps'] / limit:.3f}",
                ms(m["p50_us"]),
                ms(m["p99_us"]),
                f"{m['errors']:.0f}",
                f"{m['server_cores']:.2f}",
                f"{m['postgres_cores']:.2f}",
                f"{m['loader_cores']:.2f}",
                f"{m['other_cores']:.2f}",
                f"{m['server_cores'] / m['rps'] * 1000:.2f}",
                f"{m['postgres_cores'] / m['rps'] * 1000:.2f}",
            )
            for label, m in medians.items()
        ],
    )
    return medians


def print_fixed(fixed: dict[str, dict[str, object]], rate: float, duration: float) -> None:
    print(
        f"\nfixed rate {rate:,.1f} requests/s (a fraction of the intake's peak), open loop, "
        f"{duration:g} s, latency from when each request was due"
    )
    common.print_table(
        (
            "endpoint",
            "answered",
            "statuses",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "generator lag p99 ms",
            "server cores",
            "postgres cores",
            "loadgen cores",
            "other cores",
        ),
        [
            (
                label,
                f"{s['requests']}",
                json.dumps(s["statuses"]),
                ms(s["p50_us"]),
                ms(s["p95_us"]),
                ms(s["p99_us"]),
                ms(s["max_us"]),
                ms(s["send_lag_p99_us"]),
                f"{float(str(s['server_cores'])):.2f}",
                f"{float(str(s['postgres_cores'])):.2f}",
                f"{float(str(s['loader_cores'])):.2f}",
                f"{float(str(s['other_cores'])):.2f}",
            )
            for label, s in fixed.items()
        ],
    )
