"""A small HTTP load generator: keep-alive connections, bounded in time and in requests.

Two ways to load a server, each run as a separate process that prints one JSON object
(requests, errors, seconds, statuses, latency percentiles in microseconds):

- **closed loop** (default): ``--concurrency`` connections, each sending its next request as
  soon as the last one is answered, as wrk does. api_throughput.py uses it when wrk is not
  installed. One Python process tops out at a few thousand requests per second, so its figures
  bound the load generator as much as the server; wrk is preferred for peak throughput.
- **open loop** (``--rate R``): request *i* is due at ``start + i / R`` whatever the server does,
  over at most ``--concurrency`` connections (a request that finds them all busy waits for one).
  Latency is measured from the moment a request was *due*, not from when it was sent, so a
  server that falls behind is charged for the queue it causes (no "coordinated omission", as in
  wrk2). The generator's own lateness (``send_lag``) is reported: when it is small next to the
  latencies, the generator kept to the schedule. When the duration ends no new request is sent,
  but every one already sent is awaited, so the statuses counted are every request the server
  answered.

``--method POST --body-file F`` sends a body; ``--record-field NAME --record-to PATH`` writes the
field NAME of every 2xx JSON answer to PATH, one per line (intake.py checks the references it
was given against the database).

    uv run python bench/loadgen.py http://127.0.0.1:8000/healthz --duration 5 --concurrency 16
    uv run python bench/loadgen.py http://127.0.0.1:8000/api/v1/... --method POST \\
        --body-file body.json --rate 80 --duration 20 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_RATE = 5000.0


@dataclass(frozen=True)
class Call:
    """The one request sent again and again."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    content_type: str = "application/json"
    record_field: str | None = None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        headers = {"content-type": self.content_type} if self.body is not None else None
        response = await client.request(self.method, self.url, content=self.body, headers=headers)
        await response.aread()
        return response


@dataclass
class Tally:
    """What came back: latencies, statuses, transport errors, recorded fields."""

    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    recorded: list[str] = field(default_factory=list)

    def count(self, call: Call, response: httpx.Response, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[response.status_code] += 1
        if call.record_field and 200 <= response.status_code < 300:
            self.recorded.append(str(response.json().get(call.record_field)))

    def summary(self, elapsed: float) -> dict[str, object]:
        latencies = sorted(self.latencies)
        errors = sum(n for status, n in self.statuses.items() if status >= 400)
        result: dict[str, object] = {
            "requests": len(latencies),
            "seconds": elapsed,
            "errors": errors + self.transport_errors,
            "transport_errors": self.transport_errors,
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "p50_us": _percentile(latencies, 0.50) * 1e6,
            "p95_us": _percentile(latencies, 0.95) * 1e6,
            "p99_us": _percentile(latencies, 0.99) * 1e6,
            "max_us": latencies[-1] * 1e6 if latencies else float("nan"),
        }
        if self.lags:
            lags = sorted(self.lags)
            result["send_lag_p99_us"] = _percentile(lags, 0.99) * 1e6
            result["send_lag_max_us"] = lags[-1] * 1e6
        return result


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1)]


def _client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=30.0)


async def drive(
    call: Call | str, duration: float, concurrency: int, max_requests: int
) -> tuple[dict[str, object], list[str]]:
    """Closed loop: ``concurrency`` connections, each sending again as soon as answered."""
    call = Call(call) if isinstance(call, str) else call
    tally = Tally()
    deadline = time.perf_counter() + duration

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline and len(tally.latencies) < max_requests:
            started = time.perf_counter()
            try:
                response = await call.send(client)
            except httpx.HTTPError:
                tally.transport_errors += 1
                continue
            tally.count(call, response, time.perf_counter() - started)

    async with _client(concurrency) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally.summary(elapsed), tally.recorded


async def drive_at_rate(
    call: Call, rate: float, duration: float, concurrency: int
) -> tuple[dict[str, object], list[str]]:
    """Open loop: one request due every ``1 / rate`` s; latency counted from when it was due."""
    tally = Tally()

    async def one(client: httpx.AsyncClient, due: float) -> None:
        tally.lags.append(time.perf_counter() - due)
        try:
            response = await call.send(client)
        except httpx.HTTPError:
            tally.transport_errors += 1
            return
        tally.count(call, response, time.perf_counter() - due)

    async with _client(concurrency) as client:
        started = time.perf_counter() + 0.05
        in_flight = set()
        for index in range(max(1, round(rate * duration))):
            due = started + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(one(client, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)
        elapsed = time.perf_counter() - started
    summary = tally.summary(elapsed)
    summary["offered_rate"] = rate
    return summary, tally.recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (at most 120)")
    parser.add_argument("--concurrency", type=int, default=16, help="connections at most")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="closed loop only")
    parser.add_argument("--rate", type=float, help="open loop: requests per second")
    parser.add_argument("--method", default="GET", choices=("GET", "POST", "PUT", "PATCH"))
    parser.add_argument("--body-file", type=Path, help="the request body")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--record-field", help="a field of each 2xx JSON answer to record")
    parser.add_argument("--record-to", type=Path, help="where to write the recorded values")
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in LOOPBACK_HOSTS:
        raise SystemExit("loadgen drives servers on this machine only (127.0.0.1, localhost, ::1)")
    if args.rate is not None and not 0 < args.rate <= MAX_RATE:
        raise SystemExit(f"--rate must be in (0, {MAX_RATE:g}]")
    if (args.record_field is None) != (args.record_to is None):
        raise SystemExit("--record-field and --record-to go together")
    call = Call(
        args.url,
        method=args.method,
        body=args.body_file.read_bytes() if args.body_file else None,
        content_type=args.content_type,
        record_field=args.record_field,
    )
    duration = min(args.duration, 120.0)
    if args.rate is None:
        run = drive(call, duration, args.concurrency, args.max_requests)
    else:
        run = drive_at_rate(call, args.rate, duration, args.concurrency)
    result, recorded = asyncio.run(run)
    if args.record_to is not None:
        args.record_to.write_text("".join(f"{value}\n" for value in recorded), encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
