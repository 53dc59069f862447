"""Submission intake over HTTP on PostgreSQL, next to the raw limit measured in the same run.

A realistic 20-question procedure (bench/intake-procedure.yaml, the child allowance application)
is published for Sapporo on a fresh database; then the real server (``madoguchi serve``,
production settings) and the raw limit (bench/raw_intake.py: a bare ASGI app storing the same JSON
with asyncpg) run side by side under the same uvicorn, with the same workers and pool size. Each
is driven from a separate process, on loopback, for a bounded time:

1. peak throughput, wrk with a Lua script that POSTs the same body and counts the 201s: the raw
   insert (the limit), the raw insert with an audit row in one transaction, madoguchi's /healthz
   (the framework with no database: the most any madoguchi route can reach) and the intake;
2. latency at a fixed rate of half the intake's own peak (``--rate-fraction``), open loop
   (bench/loadgen.py --rate: latency counted from when each request was due), for the intake
   and, at the same rate, the raw endpoint (what the machine and the generator add);
3. the database afterwards: submissions against the 201s counted, one audit record each,
   unique references, the fixed-rate run's references all stored;
4. where the time goes: intake requests in process (httpx's ASGI transport, no sockets), each
   part timed in wall-clock and CPU time, the SQL listed, then under cProfile with a CPU clock
   (bench/intake_profile.py).

Targets: intake ≥ 50% of the raw limit's requests/s; p99 < 50 ms at half the intake's peak.

    uv run python bench/intake.py --workers 1 --duration 10 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stdnum.jp import in_

import api_throughput as throughput
import common
import intake_loads as loads
import intake_profile
from madoguchi import migrations
from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.procedures import service as procedures
from madoguchi.procedures.loader import load_definition
from madoguchi.procedures.validation import check_answers
from madoguchi.tenants import service as tenants

BENCH = Path(__file__).resolve().parent
PROCEDURE_FILE = BENCH / "intake-procedure.yaml"
OWNER, SLUG = "011002", "child-allowance"
RATIO_TARGET, P99_TARGET_MS = 0.50, 50.0


def main() -> None:
    args = _arguments()
    common.check_name(args.database)
    common.print_header("submission intake over HTTP on PostgreSQL", args.admin_url)
    pool = -(-args.concurrency // args.workers)
    print(
        f"servers: madoguchi serve and bench/raw_intake.py, each --workers {args.workers}, "
        f"{pool} pooled connections per worker; load: wrk (1 thread, {args.concurrency} "
        f"connections), {args.duration:g} s after {args.warmup:g} s warm-up, {args.rounds} "
        f"round(s); then loadgen.py at a fixed rate for {args.rate_duration:g} s"
    )
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-intake-"))
    _configure(args, workdir, pool)
    common.create_database(args.admin_url, args.database)
    try:
        url = common.sqlalchemy_url(args.admin_url, args.database)
        _prepare_database(url)
        body = json.dumps({"answers": realistic_answers(dt.date.today())}, ensure_ascii=False)
        (workdir / "body.json").write_text(body, encoding="utf-8")
        print(f"request body: {len(body.encode()):,} bytes of JSON, accepted by check_answers")
        with _raw_server(args, workdir) as raw, throughput._server(args, workdir) as server:
            run = _run_loads(args, workdir, raw, server)
        targets_met = _report(args, run)
        consistent = _verify(args, run)
        intake_profile.profile(url, run.procedure_id, body.encode(), args.profile_requests)
    finally:
        common.drop_database(args.admin_url, args.database)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"database {args.database} dropped")
    if not consistent:
        raise SystemExit("the database does not match what the load tools counted")
    if not all(targets_met):
        print("targets missed: see the profile above for where the time goes")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per peak run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each")
    parser.add_argument("--concurrency", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="processes of each server")
    parser.add_argument("--rounds", type=int, default=3, help="peak runs of each endpoint")
    parser.add_argument("--rate-duration", type=float, default=30.0, help="fixed-rate seconds")
    parser.add_argument(
        "--rate-fraction", type=float, default=0.5, help="fixed rate, as a fraction of the peak"
    )
    parser.add_argument("--profile-requests", type=int, default=300)
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_intake")
    parser.add_argument("--log-level", default="WARNING", help="the servers' log level")
    parser.add_argument("--start-timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be in [1, 120] and --warmup in [0, 30]")
    if not 1 <= args.concurrency <= 256 or not 1 <= args.workers <= 8:
        parser.error("--concurrency must be in [1, 256] and --workers in [1, 8]")
    if not 1 <= args.rounds <= 10 or not 5 <= args.rate_duration <= 120:
        parser.error("--rounds must be in [1, 10] and --rate-duration in [5, 120]")
    if not 0 < args.rate_fraction <= 1:
        parser.error("--rate-fraction must be in (0, 1]")
    if not 50 <= args.profile_requests <= 5000:
        parser.error("--profile-requests must be in [50, 5000]")
    return args


def _configure(args: argparse.Namespace, workdir: Path, pool: int) -> None:
    """Production settings, for the server (which inherits them) and for this process, whose
    in-process checks and profile encrypt the My Number with the settings' key as the server
    does. The pool holds a connection for every connection the load opens: no churn."""
    os.environ.update(
        {
            "MADOGUCHI_ENVIRONMENT": "production",
            "MADOGUCHI_SECRET_KEY": secrets.token_urlsafe(48),
            "MADOGUCHI_SMTP_HOST": "127.0.0.1",  # never used: intake sends no mail
            "MADOGUCHI_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            "MADOGUCHI_DATABASE_URL": common.sqlalchemy_url(args.admin_url, args.database),
            "MADOGUCHI_DATA_DIR": str(workdir / "data"),
            "MADOGUCHI_LOG_LEVEL": args.log_level,
            "MADOGUCHI_DB_POOL_SIZE": str(pool),
        }
    )


def _prepare_database(url: str) -> None:
    """Migrate, load the public bodies, publish the procedure: what the server then finds."""
    started = time.perf_counter()
    migrations.upgrade(url)
    source = PROCEDURE_FILE.read_text(encoding="utf-8")

    async def work() -> None:
        engine = create_engine(url)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                await tenants.sync_reference_data(session)
                draft = await procedures.save_draft(session, OWNER, source)
                procedure = await procedures.get_procedure(session, OWNER, SLUG)
                await procedures.publish(session, procedure, draft.version)
        finally:
            await engine.dispose()

    asyncio.run(work())
    print(f"database migrated, seeded, {SLUG} published in {time.perf_counter() - started:.1f} s")


def realistic_answers(today: dt.date) -> dict[str, object]:
    """What a parent would type: a birth and a move-in, two children, kana, 和暦 dates.

    Checked with ``check_answers`` before any load: every answer must be accepted and kept.
    """
    moved_in = today - dt.timedelta(days=58)  # typed in 和暦, as the hint offers
    my_number = "12345678901" + in_.calc_check_digit("12345678901")
    answers: dict[str, object] = {
        "applicant_name": _name("山田", "花子", "やまだ", "ハナコ"),
        "applicant_birth": "平成2年5月12日",
        "my_number": f"{my_number[:4]} {my_number[4:8]} {my_number[8:]}",
        "address": {
            "postal_code": "060-0001",
            "prefecture": "北海道",
            "municipality": "札幌市中央区",
            "town": "北一条西",
            "street": "２丁目１－１",
            "building": "札幌マンション301",
        },
        "phone": "090-1234-5678",
        "email": "hanako.yamada@example.jp",
        "applicant_role": "parent",
        "pension": "employees",
        "has_spouse": True,
        "spouse_name": _name("山田", "太郎", "ヤマダ", "タロウ"),
        "children": [
            _child(_name("山田", "一郎", "ヤマダ", "イチロウ"), dt.date(today.year - 7, 6, 3)),
            _child(_name("山田", "さくら", "ヤマダ", "サクラ"), today - dt.timedelta(days=38)),
        ],
        "children_elsewhere": False,
        "reasons": ["birth", "moved_in"],
        "moved_in_on": f"令和{moved_in.year - 2018}年{moved_in.month}月{moved_in.day}日",
        "household_size": "4",
        "income": "3,850,000",
        "bank_account": {
            "bank": "0009",
            "branch": "001",
            "type": "普通",
            "number": "1234567",
            "holder": "ﾔﾏﾀﾞ ﾊﾅｺ",
        },
        "contact_time": "afternoon",
        "notes": "平日の午後は在宅しています。書類の郵送先は上記の住所でお願いします。",
        "declaration": True,
    }
    accepted = check_answers(load_definition(PROCEDURE_FILE.read_text("utf-8")), answers, today)
    if set(accepted.answers) != set(answers):
        raise SystemExit(f"answers dropped: {sorted(set(answers) - set(accepted.answers))}")
    return answers


def _name(family: str, given: str, family_kana: str, given_kana: str) -> dict[str, str]:
    return {"family": family, "given": given, "family_kana": family_kana, "given_kana": given_kana}


def _child(name: dict[str, str], born: dt.date) -> dict[str, object]:
    return {
        "child_name": name,
        "child_birth": born.isoformat(),
        "child_relationship": "own",
        "lives_with_you": True,
    }


@contextlib.contextmanager
def _raw_server(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, int]]:
    port = throughput._free_port()
    log_path = workdir / "raw.log"
    command = [sys.executable, str(BENCH / "raw_intake.py"), "--port", str(port)]
    command += ["--workers", str(args.workers), "--pool-size", os.environ["MADOGUCHI_DB_POOL_SIZE"]]
    command += ["--dsn", common.asyncpg_dsn(args.admin_url, args.database)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        throughput._wait_until_ready(base_url, process, log_path, args.start_timeout)
        yield base_url, process.pid
    finally:
        throughput._stop(process, log_path)


@dataclass
class Run:
    """What the loads found, for the report and the checks of the database."""

    procedure_id: str
    peaks: list[loads.Peak]
    rate: float
    fixed: dict[str, dict[str, object]]  # label → loadgen's summary and the rows added
    references: list[str]  # of every 201 counted outside wrk: the first one, the fixed rate


SUBMISSIONS = "SELECT count(*) FROM submissions"


def _run_loads(
    args: argparse.Namespace, workdir: Path, raw: tuple[str, int], server: tuple[str, int]
) -> Run:
    (raw_url, raw_pid), (base_url, server_pid) = raw, server
    database = loads.Database(args.admin_url, args.database)
    procedure_id = _procedure_id(base_url)
    intake_url = f"{base_url}/api/v1/procedures/{procedure_id}/submissions"
    body = workdir / "body.json"
    references = [loads.preflight(intake_url, body.read_bytes())]
    print(f"first submission: 201, reference {references[0]}; invalid answers: 422")
    raw_limit, raw_audited, healthz, intake = (
        loads.make_target(
            workdir,
            "raw limit: asyncpg INSERT",
            f"{raw_url}/intake",
            raw_pid,
            "SELECT count(*) FROM raw_intake",
        ),
        loads.make_target(
            workdir,
            "raw INSERT + audit row, 1 transaction",
            f"{raw_url}/intake/audited",
            raw_pid,
            "SELECT count(*) FROM raw_intake_events",
        ),
        loads.make_target(
            workdir, "madoguchi /healthz (no database)", f"{base_url}/healthz", server_pid, None
        ),
        loads.make_target(workdir, "madoguchi intake", intake_url, server_pid, SUBMISSIONS),
    )
    peaks = []
    for _ in range(args.rounds):  # taking turns: a burst of noise hits every endpoint alike
        for target in (raw_limit, raw_audited, healthz, intake):
            peaks.append(loads.peak(target, database, args.warmup, args.duration, args.concurrency))
            print(f"  {target.label}: {peaks[-1].rps:,.0f} requests/s", flush=True)
    rate = statistics.median(p.rps for p in peaks if p.target is intake) * args.rate_fraction
    fixed = {}
    for target, record in ((intake, workdir / "references.txt"), (raw_limit, None)):
        fixed[target.label] = loads.fixed_rate(
            target, database, body, rate, args.rate_duration, args.concurrency, record
        )
        print(
            f"  {target.label} at {rate:,.1f}/s: p99 {loads.ms(fixed[target.label]['p99_us'])} ms"
        )
    references += (workdir / "references.txt").read_text().split()
    return Run(procedure_id, peaks, rate, fixed, references)


def _procedure_id(base_url: str) -> str:
    status, text = throughput._get(f"{base_url}/api/v1/procedures?tenant={OWNER}")
    items = json.loads(text).get("items", []) if status == 200 else []
    found = [item for item in items if item.get("slug") == SLUG]
    if not found or "id" not in found[0]:
        raise SystemExit(f"GET /api/v1/procedures?tenant={OWNER} gave no id for {SLUG}: {text}")
    return str(found[0]["id"])


def _report(args: argparse.Namespace, run: Run) -> tuple[bool, bool]:
    medians = loads.print_peaks(run.peaks, args.concurrency, args.rounds)
    limit = medians["raw limit: asyncpg INSERT"]["rps"]
    loads.print_fixed(run.fixed, run.rate, args.rate_duration)
    ratio = medians["madoguchi intake"]["rps"] / limit
    p99 = float(str(run.fixed["madoguchi intake"]["p99_us"])) / 1000
    ratio_ok, p99_ok = ratio >= RATIO_TARGET, p99 < P99_TARGET_MS
    print(
        f"\nintake {medians['madoguchi intake']['rps']:,.0f} requests/s, raw limit "
        f"{limit:,.0f} requests/s: {ratio:.1%} of the limit, target ≥ {RATIO_TARGET:.0%}: "
        f"{'PASS' if ratio_ok else 'FAIL'}"
    )
    print(
        f"intake p99 at {run.rate:,.1f} requests/s ({args.rate_fraction:g} of its peak): "
        f"{p99:.1f} ms, target < "
        f"{P99_TARGET_MS:g} ms: {'PASS' if p99_ok else 'FAIL'}"
    )
    return ratio_ok, p99_ok


def _verify(args: argparse.Namespace, run: Run) -> bool:
    """The database against what the load tools counted: nothing lost, nothing doubled."""
    database = loads.Database(args.admin_url, args.database)
    intake_peaks = [p for p in run.peaks if p.target.label == "madoguchi intake"]
    fixed = run.fixed["madoguchi intake"]
    created_fixed = int(dict(fixed["statuses"]).get("201", 0))  # type: ignore[call-overload]
    counted = 1 + sum(p.wanted for p in intake_peaks) + created_fixed
    dropped = sum(p.in_flight_at_stop for p in intake_peaks)
    stored = database.count(SUBMISSIONS)
    checks = [
        (
            "no answer but 201 from the intake",
            all(p.errors == 0 for p in intake_peaks) and fixed["errors"] == 0,
        ),
        (
            f"fixed rate: rows added {fixed['rows_added']} = 201s counted {created_fixed}",
            fixed["rows_added"] == created_fixed,
        ),
        (
            f"wrk runs: rows added - 201s counted = {dropped} requests in flight when wrk stopped "
            f"(0 to {2 * args.concurrency} per run)",
            all(0 <= p.in_flight_at_stop <= 2 * args.concurrency for p in intake_peaks),
        ),
        (
            f"submissions stored {stored} = 201s counted {counted} + in flight {dropped}",
            stored == counted + dropped,
        ),
    ]
    checks += [
        (label, database.count(query, *params) == stored)
        for label, query, params in (
            (
                "one 'submitted' audit record for every submission, no other",
                "SELECT count(*) FROM submissions s WHERE (SELECT count(*) FROM "
                "submission_events e WHERE e.tenant_id = s.tenant_id AND e.submission_id = s.id "
                "AND e.action = 'submitted') = 1",
                (),
            ),
            ("audit records: as many as submissions", "SELECT count(*) FROM submission_events", ()),
            ("references unique", "SELECT count(DISTINCT reference) FROM submissions", ()),
            (
                "all against the procedure's published version 1",
                "SELECT count(*) FROM submissions WHERE procedure_id = $1 AND version = 1",
                (uuid.UUID(run.procedure_id),),
            ),
        )
    ]
    known = database.count(
        "SELECT count(*) FROM submissions WHERE reference = ANY($1)", run.references
    )
    checks.append(
        (
            f"every reference answered outside wrk is stored ({len(run.references)})",
            known == len(set(run.references)) == len(run.references),
        )
    )
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {label}")
    return all(ok for _, ok in checks)


if __name__ == "__main__":
    main()
