"""A small HTTP load generator: keep-alive connections, bounded in time and in requests.

api_throughput.py runs it as a separate process when wrk is not installed. It drives one URL on
this machine only (loopback) and prints one JSON object: requests, errors, seconds, and latency
percentiles in microseconds. One Python process tops out at a few thousand requests per second,
so with it the figures bound the load generator as much as the server; wrk is preferred.

    uv run python bench/loadgen.py http://127.0.0.1:8000/healthz --duration 5 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

import httpx

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


async def drive(url: str, duration: float, concurrency: int, max_requests: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = {"status": 0, "transport": 0}
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline and len(latencies) < max_requests:
            started = time.perf_counter()
            try:
                response = await client.get(url)
                await response.aread()
            except httpx.HTTPError:
                errors["transport"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                errors["status"] += 1

    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(fraction: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, round(fraction * len(latencies)) - 1)] * 1e6

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "errors": errors["status"] + errors["transport"],
        "p50_us": pct(0.50),
        "p95_us": pct(0.95),
        "p99_us": pct(0.99),
        "max_us": latencies[-1] * 1e6 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (at most 120)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in LOOPBACK_HOSTS:
        raise SystemExit("loadgen drives servers on this machine only (127.0.0.1, localhost, ::1)")
    duration = min(args.duration, 120.0)
    result = asyncio.run(drive(args.url, duration, args.concurrency, args.max_requests))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
