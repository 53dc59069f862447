"""Sealing and verifying PDFs (documents per second) next to pyHanko called directly, and the TSA
over HTTP next to the bare endpoint, all in the same run, on PostgreSQL.

Issue [P4] item 7. On a fresh database (migrated, the public bodies loaded) the benchmark process
connects as the app's role, as the server does, and takes a real receipt (submissions.receipts:
the intake benchmark's 20-question child allowance application, 3 pages of Japanese in embedded
IPAex Gothic) through, one document at a time, the variants taking turns
(bench/signing_inprocess.py):

1. **sealing**: ``seal_pdf`` — our layers over pyHanko: the body's e-seal looked up, the evidence
   (root, CRLs), the in-process TSA, the stamp drawn with its QR code, PAdES through KeySigner —
   against pyHanko called directly (PdfSigner + a signer on the same private key, the same
   timestamper, root, CRLs and stamp, made once). Limit: ours ≤ 1.20 × pyHanko's median time per
   document (medians: on this shared machine a burst of noise moves a mean by 30%). Beside them,
   for the record and not judged, ``seal_document`` as a request makes it: the same, plus a
   transaction of its own, the ``sealed_documents`` row and its commit, and the file written and
   fsynced — keeping the document, which pyHanko alone does not do. Each step of a seal is also
   timed on its own, to say where the difference goes.
2. **verification**: ``check_pdf`` against pyHanko's ``validate_pdf_signature`` with an equivalent
   ValidationContext, on the same sealed receipt. Limit: ≤ 1.20 × pyHanko's median time.
3. **the TSA over HTTP**: the real server (``madoguchi serve``, uvicorn, PostgreSQL) driven by wrk
   from a separate process, POST /pki/timestamp next to /healthz, taking turns
   (bench/signing_tsa.py); beside them, ``timestamps.answer`` alone in this process. No numeric
   target was set for it: every answer must be a granted token.

    uv run python bench/signing.py [--documents 60] [--rounds 5] [--duration 10] [--profile]

Exits with status 1 when a limit is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import secrets
import shutil
import statistics
import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

import common
import signing_inprocess as inproc
import signing_tsa as tsa
from madoguchi import migrations
from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.my_number_keys import new_key_file_content, write_key_file
from madoguchi.core.settings import Settings
from madoguchi.signatures import sealing
from madoguchi.signatures.verification import check_pdf
from madoguchi.tenants import service as tenants

RATIO_LIMIT = 1.20


def main() -> None:
    args = _arguments()
    common.print_header("PDF sealing, verification and the TSA, next to pyHanko", args.admin_url)
    workdir = Path(tempfile.mkdtemp(prefix="madoguchi-signing-"))
    environment = _environment(args, workdir)
    write_key_file(Path(environment["MADOGUCHI_MY_NUMBER_KEY_FILE"]), new_key_file_content())
    # pyHanko warns on every B-LT signature made without fetching (ours never fetch: the
    # evidence is given); the same call on both sides, so silenced for both.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    common.create_database(args.admin_url, args.database)
    try:
        migrations.upgrade(environment["MADOGUCHI_DATABASE_URL"])
        run_in_unit_of_work(tenants.sync_reference_data, environment["MADOGUCHI_DATABASE_URL"])
        results = asyncio.run(_in_process(args, _settings(environment)))
        with tsa.server(environment, workdir, args.workers, args.start_timeout) as server:
            http = _over_http(args, workdir, server, results.pop("authority"))
    finally:
        common.drop_database(args.admin_url, args.database)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"database {args.database} dropped")
    if not _report(args, results, http):
        raise SystemExit(1)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=60, help="seals of each variant")
    parser.add_argument("--verifications", type=int, default=100, help="checks of each variant")
    parser.add_argument("--rounds", type=int, default=10, help="turns the variants take")
    parser.add_argument("--profile", action="store_true", help="cProfile 20 seal_document calls")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each")
    parser.add_argument("--http-rounds", type=int, default=3, help="wrk runs of each endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--admin-url", default=common.DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="madoguchi_bench_signing")
    parser.add_argument("--log-level", default="WARNING", help="the server's log level")
    parser.add_argument("--start-timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not 10 <= args.documents <= 2000 or not 10 <= args.verifications <= 5000:
        parser.error("--documents must be in [10, 2000] and --verifications in [10, 5000]")
    if not 1 <= args.rounds <= min(args.documents, args.verifications):
        parser.error("--rounds must be at least 1 and at most --documents and --verifications")
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be in [1, 120] and --warmup in [0, 30]")
    if not 1 <= args.http_rounds <= 10 or not 1 <= args.concurrency <= 256:
        parser.error("--http-rounds must be in [1, 10] and --concurrency in [1, 256]")
    if not 1 <= args.workers <= 8:
        parser.error("--workers must be in [1, 8]")
    common.check_name(args.database)
    return args


def _environment(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    """Production settings shared by this process and the server: the same secret key opens
    the same software keys in both."""
    return {
        "MADOGUCHI_ENVIRONMENT": "production",
        "MADOGUCHI_SECRET_KEY": secrets.token_urlsafe(48),
        "MADOGUCHI_SMTP_HOST": "127.0.0.1",  # never used: nothing here sends mail
        "MADOGUCHI_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "MADOGUCHI_DATABASE_URL": common.sqlalchemy_url(args.admin_url, args.database),
        "MADOGUCHI_DATA_DIR": str(workdir / "data"),
        "MADOGUCHI_MY_NUMBER_KEY_FILE": str(workdir / "my-number-keys"),  # production needs one
        "MADOGUCHI_PUBLIC_URL": "https://madoguchi.example.jp",
        "MADOGUCHI_LOG_LEVEL": args.log_level,
    }


def _settings(environment: dict[str, str]) -> Settings:
    return Settings(
        environment="production",
        secret_key=environment["MADOGUCHI_SECRET_KEY"],
        smtp_host=environment["MADOGUCHI_SMTP_HOST"],
        admin_password=environment["MADOGUCHI_ADMIN_PASSWORD"],
        database_url=environment["MADOGUCHI_DATABASE_URL"],
        data_dir=Path(environment["MADOGUCHI_DATA_DIR"]),
        my_number_key_file=Path(environment["MADOGUCHI_MY_NUMBER_KEY_FILE"]),
        public_url=environment["MADOGUCHI_PUBLIC_URL"],
        log_level=environment["MADOGUCHI_LOG_LEVEL"],
    )


async def _in_process(args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    engine = create_engine(settings.resolved_app_database_url())
    try:
        factory = create_session_factory(engine)
        pdf, pages = inproc.receipt()
        bench = inproc.Bench(settings, factory, await inproc.body_of(factory), pdf)
        print(f"receipt: {len(pdf):,} bytes, {pages} pages; connected as the app's role")
        first = await bench.seal()  # makes the root, the authorities, the TSA, the e-seal
        direct = await inproc.direct_pieces(bench)
        await _check_equivalent(bench, direct, first)
        if args.profile:
            await _profile(bench)
        return await _measure(args, bench, direct, first)
    finally:
        await engine.dispose()


async def _check_equivalent(bench: inproc.Bench, direct: inproc.Direct, ours: bytes) -> None:
    """Both ways make a document check_pdf calls valid, of about the same size, and pyHanko's
    own validation passes both: the two sides do the same work."""
    theirs = await direct.seal(bench.pdf)
    shipped = await direct.seal(bench.pdf, key_kept=False)
    async with bench.session() as db:
        proof = await sealing.evidence(db, bench.settings)
    for label, sealed in (
        ("seal_document", ours),
        ("pyHanko directly, key kept parsed", theirs),
        ("pyHanko directly, SimpleSigner", shipped),
    ):
        verdict = await check_pdf(sealed, proof)
        status = await direct.validate(sealed)
        if not verdict.valid or not status.bottom_line:
            raise SystemExit(f"{label} made a document that does not verify: {verdict}")
        print(f"{label}: {len(sealed):,} bytes, valid for check_pdf and for pyHanko")


async def _seals(
    args: argparse.Namespace, bench: inproc.Bench, direct: inproc.Direct, db: AsyncSession
) -> list[inproc.Cost]:
    """The limit first, then what is judged against it (seal_pdf: our layers, nothing kept),
    then for the record the whole of a request's seal and pyHanko's shipped signer."""
    return await inproc.interleaved(
        [
            ("pyHanko directly, key kept parsed (the limit)", lambda: direct.seal(bench.pdf)),
            ("seal_pdf (ours: e-seal, evidence, TSA, stamp, PAdES)", lambda: bench.seal_only(db)),
            ("seal_document (ours, and kept: its own transaction, row, file)", bench.seal),
            (
                "pyHanko directly, SimpleSigner as shipped",
                lambda: direct.seal(bench.pdf, key_kept=False),
            ),
        ],
        args.documents,
        args.rounds,
    )


async def _measure(
    args: argparse.Namespace, bench: inproc.Bench, direct: inproc.Direct, sealed: bytes
) -> dict[str, object]:
    print(f"sealing: {args.documents} documents of each variant, {args.rounds} rounds …")
    async with bench.session() as open_session:
        seals = await _seals(args, bench, direct, open_session)
    print("the parts of a seal …")

    parts = await inproc.interleaved(
        await inproc.parts(bench, sealed), max(10, args.documents // 2), args.rounds
    )
    async with bench.session() as db:
        proof = await sealing.evidence(db, bench.settings)
        authority = await sealing.timestamp_authority(db, bench.settings)

    async def evidence_and_check() -> None:
        async with bench.session() as db:
            await check_pdf(sealed, await sealing.evidence(db, bench.settings))

    print(f"verification: {args.verifications} checks of each variant …")
    checks = await inproc.interleaved(
        [
            ("pyHanko validate_pdf_signature (the limit)", lambda: direct.validate(sealed)),
            ("check_pdf (ours), evidence given", lambda: check_pdf(sealed, proof)),
            ("evidence() + check_pdf in a unit of work", evidence_and_check),
        ],
        args.verifications,
        args.rounds,
    )
    return {"seals": seals, "parts": parts, "checks": checks, "authority": authority}


async def _profile(bench: inproc.Bench) -> None:
    profiler = cProfile.Profile()
    for _ in range(3):
        await bench.seal()
    profiler.enable()
    for _ in range(20):
        await bench.seal()
    profiler.disable()
    print("\ncProfile of 20 seal_document calls (wall clock), by cumulative time:")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("madoguchi|pyhanko", 30)


def _over_http(
    args: argparse.Namespace, workdir: Path, server: tuple[str, int], authority: object
) -> dict[str, object]:
    request_der = tsa.timestamp_request()
    size = tsa.preflight(f"{server[0]}/pki/timestamp", request_der, authority)  # type: ignore[arg-type]
    print(f"TSA: a {len(request_der)}-byte request answered with a granted {size:,}-byte token")
    alone = tsa.answers_per_second(request_der, authority, 3.0)  # type: ignore[arg-type]
    load = (args.warmup, args.duration, args.http_rounds, args.concurrency)
    return {"runs": tsa.drive(workdir, server, request_der, load), "answer_alone": alone}


# --- the report ------------------------------------------------------------------------------


def _report(args: argparse.Namespace, results: dict[str, object], http: dict[str, object]) -> bool:
    seals, parts, checks = results["seals"], results["parts"], results["checks"]
    sealing_ok = _ratio_table("sealing one receipt", seals)  # type: ignore[arg-type]
    _parts_table(parts, seals)  # type: ignore[arg-type]
    verifying_ok = _ratio_table("verifying the sealed receipt", checks)  # type: ignore[arg-type]
    tsa_ok = _http_table(args, http)
    return sealing_ok and verifying_ok and tsa_ok


def _ratio_table(title: str, costs: list[inproc.Cost]) -> bool:
    limit = costs[0]
    print(f"\n{title}: one at a time, {len(limit.wall_s)} of each, the variants taking turns")
    rows = []
    for cost in costs:
        spent = sorted(cost.wall_s)
        rows.append(
            (
                cost.label,
                f"{1 / cost.mean_s:,.1f}",
                f"{cost.mean_s * 1000:,.1f}",
                f"{statistics.median(spent) * 1000:,.1f}",
                f"{common.percentile(spent, 0.95) * 1000:,.1f}",
                f"{cost.cpu_s * 1000:,.1f}",
                f"{cost.mean_s / limit.mean_s:.2f}",
            )
        )
    common.print_table(
        ("variant", "documents/s", "mean ms", "p50 ms", "p95 ms", "CPU ms (this process)", "×"),
        rows,
    )
    ratio = statistics.median(costs[1].wall_s) / statistics.median(limit.wall_s)
    verdict = "PASS" if ratio <= RATIO_LIMIT else "FAIL"
    print(
        f"{costs[1].label}: {ratio:.2f} × pyHanko's median time per document (× of the means: "
        f"{costs[1].mean_s / limit.mean_s:.2f}; of CPU: {costs[1].cpu_s / limit.cpu_s:.2f}), "
        f"limit ≤ {RATIO_LIMIT:.2f}: {verdict}"
    )
    return ratio <= RATIO_LIMIT


def _parts_table(parts: list[inproc.Cost], seals: list[inproc.Cost]) -> None:
    direct, ours = seals[0].mean_s, seals[2].mean_s  # the parts are seal_document's
    print(
        f"\nthe parts of a seal, each on its own ({len(parts[0].wall_s)} of each); "
        f"ours − pyHanko = {(ours - direct) * 1000:,.1f} ms per document"
    )
    rows = [
        (
            cost.label,
            f"{cost.mean_s * 1000:,.2f}",
            f"{cost.cpu_s * 1000:,.2f}",
            f"{cost.mean_s / ours:.1%}",
        )
        for cost in parts
    ]
    common.print_table(("part", "mean ms", "CPU ms", "of seal_document"), rows)


def _http_table(args: argparse.Namespace, http: dict[str, object]) -> bool:
    runs, (alone, alone_cpu_ms) = http["runs"], http["answer_alone"]  # type: ignore[misc]
    bare = tsa.median_rps(runs.bare)  # type: ignore[attr-defined]
    print(
        f"\nover HTTP: wrk, 1 thread, {args.concurrency} connections, {args.duration:g} s after "
        f"{args.warmup:g} s warm-up, median of {args.http_rounds} rounds; server: "
        f"{args.workers} worker(s)"
    )
    rows, errors = [], 0
    for label, peaks in (("bare endpoint /healthz (the limit)", runs.bare),  # type: ignore[attr-defined]
                         ("TSA: POST /pki/timestamp", runs.tsa)):  # type: ignore[attr-defined]  # fmt: skip
        rps = tsa.median_rps(peaks)
        server_cores = statistics.median(p.server_cores for p in peaks)
        errors += sum(p.errors for p in peaks)
        rows.append(
            (
                label,
                f"{rps:,.0f}",
                f"{min(p.rps for p in peaks):,.0f}–{max(p.rps for p in peaks):,.0f}",
                f"{rps / bare:.3f}",
                f"{statistics.median(p.p50_us for p in peaks) / 1000:.1f}",
                f"{statistics.median(p.p99_us for p in peaks) / 1000:.1f}",
                str(sum(p.errors for p in peaks)),
                f"{server_cores:.2f}",
                f"{statistics.median(p.postgres_cores for p in peaks):.2f}",
                f"{statistics.median(p.other_cores for p in peaks):.2f}",
                f"{server_cores / rps * 1000:.2f}",
            )
        )
    rows.append(("timestamps.answer alone, in this process", f"{alone:,.0f}", "", "", "", "",
                 "", "", "", "", f"{alone_cpu_ms:.2f}"))  # fmt: skip
    common.print_table(
        ("endpoint", "requests/s", "range", "× bare", "p50 ms", "p99 ms", "errors",
         "server cores", "postgres cores", "other cores", "server CPU ms / req"),
        rows,
    )  # fmt: skip
    verdict = "PASS" if not errors else "FAIL"
    print(f"TSA: every answer a granted token (errors: {errors}): {verdict}")
    return errors == 0


if __name__ == "__main__":
    main()
