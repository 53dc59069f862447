"""The HTTP half of bench/signing.py: the real server's TSA (POST /pki/timestamp) under wrk.

The server is ``madoguchi serve`` on the benchmark's database, with the same secret key as the
benchmark process (so the authorities it made in process open in the server too). wrk, a
separate process, POSTs one DER TimeStampReq (SHA-256 imprint, a nonce, certReq as pyHanko
sends) again and again, and counts only HTTP 200 answers whose TimeStampResp says *granted*
(the DER begins SEQUENCE, PKIStatusInfo SEQUENCE { INTEGER 0 }); /healthz, the bare endpoint, is
driven the same way, the two taking turns for ``rounds``. Before any load, one request is sent
and its answer checked in full: granted, our nonce, our imprint, signed by the platform's TSA.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, tsp

import api_throughput as throughput
import intake_loads as loads
from madoguchi.signatures.timestamps import (
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    TimestampAuthority,
    TimeStampResp,
    answer,
    random_serial,
)

ROOT = Path(__file__).resolve().parent.parent
GRANTED_PREFIX = b"\x30\x03\x02\x01\x00"  # PKIStatusInfo { status granted }, after the header
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "{media_type}"
local f = assert(io.open("{body}", "rb"))
wrk.body = f:read("*a")
f:close()
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
wanted, other = 0, 0
function response(status, headers, body)
  if status == 200 and string.sub(body, 5, 9) == "\\48\\3\\2\\1\\0" then wanted = wanted + 1
  else other = other + 1 end
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


def timestamp_request() -> bytes:
    """A DER TimeStampReq as pyHanko sends one: SHA-256 imprint, a nonce, certReq true."""
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": hashlib.sha256(b"madoguchi signing bench").digest(),
            },
            "nonce": secrets.randbits(63),
            "cert_req": True,
        }
    )
    return bytes(request.dump())


@contextlib.contextmanager
def server(environment: dict[str, str], workdir: Path, workers: int, timeout: float
           ) -> Iterator[tuple[str, int]]:  # fmt: skip
    """``madoguchi serve`` as operators start it, with ``environment``; stopped with SIGTERM."""
    port = throughput._free_port()
    log_path = workdir / "server.log"
    command = ["uv", "run", "madoguchi", "serve", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        throughput._wait_until_ready(base_url, process, log_path, timeout)
        print(f"server ready in {time.perf_counter() - started:.1f} s (migrate, seed, start)")
        yield base_url, process.pid
    finally:
        throughput._stop(process, log_path)


def preflight(url: str, request_der: bytes, authority: TimestampAuthority) -> int:
    """One request checked in full; returns the size of the answer in bytes."""
    post = urllib.request.Request(  # noqa: S310  loopback only
        url, data=request_der, method="POST", headers={"content-type": REQUEST_MEDIA_TYPE}
    )
    with urllib.request.urlopen(post, timeout=10) as response:  # noqa: S310
        media_type, reply = response.headers.get("content-type"), response.read()
    if media_type != RESPONSE_MEDIA_TYPE or reply[4:9] != GRANTED_PREFIX:
        raise SystemExit(f"the TSA did not grant: {media_type}, {reply[:64].hex()}")
    token = TimeStampResp.load(reply)["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    sent = tsp.TimeStampReq.load(request_der)
    signer = token["content"]["signer_infos"][0]["sid"].chosen
    tsa_serial = authority.certificate.serial_number
    if (
        info["nonce"].native != sent["nonce"].native
        or info["message_imprint"].dump() != sent["message_imprint"].dump()
        or signer["serial_number"].native != tsa_serial
    ):
        raise SystemExit("the TSA's token does not match the request or is not the platform's")
    return len(reply)


def answers_per_second(
    request_der: bytes, authority: TimestampAuthority, seconds: float
) -> tuple[float, float]:
    """``timestamps.answer`` in this process, back to back: the protocol's own cost, no HTTP.
    Returns answers per second and CPU ms per answer."""
    done, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        answer(request_der, authority, dt.datetime.now(dt.UTC), random_serial())
        done += 1
    cpu_ms = (time.process_time() - cpu_started) / done * 1000
    return done / (time.perf_counter() - started), cpu_ms


@dataclass(frozen=True)
class Http:
    """The wrk runs of both endpoints, each over ``rounds``."""

    bare: list[loads.Peak]
    tsa: list[loads.Peak]


def drive(
    workdir: Path, server: tuple[str, int], request_der: bytes, load: tuple[float, float, int, int]
) -> Http:
    """wrk on /healthz and on the TSA, taking turns; ``load``: warm-up and measured seconds,
    rounds, connections."""
    (base_url, pid), (warmup, duration, rounds, connections) = server, load
    body = workdir / "timestamp-request.der"
    body.write_bytes(request_der)
    script = workdir / "tsa.lua"
    script.write_text(LUA.format(media_type=REQUEST_MEDIA_TYPE, body=body), encoding="utf-8")
    bare = loads.make_target(workdir, "bare endpoint /healthz", f"{base_url}/healthz", pid, None)
    tsa = loads.Target("TSA: POST /pki/timestamp", f"{base_url}/pki/timestamp", script, pid, None)
    unused = loads.Database("", "")  # nothing is counted in the database for these two
    runs: dict[str, list[loads.Peak]] = {bare.label: [], tsa.label: []}
    for _ in range(rounds):
        for target in (bare, tsa):
            found = loads.peak(target, unused, warmup, duration, connections)
            runs[target.label].append(found)
            print(f"  {target.label}: {found.rps:,.0f} requests/s", flush=True)
    return Http(runs[bare.label], runs[tsa.label])


def median_rps(peaks: list[loads.Peak]) -> float:
    return statistics.median(p.rps for p in peaks)
