"""The raw limit for submission intake: a bare ASGI app that stores the JSON body with asyncpg.

bench/intake.py runs it next to ``madoguchi serve`` under the same uvicorn, with the same number
of workers and the same pool size, on the same database, and drives both with the same load: what
this serves per second is the most an intake endpoint on this machine could reach with Python
and PostgreSQL, before any framework, validation or ORM.

- ``POST /intake``: one ``INSERT … RETURNING`` of the body into ``raw_intake`` (column type
  ``json``, as ``submissions.answers``: PostgreSQL checks that it is JSON), answered 201 with the
  new row's id;
- ``POST /intake/audited``: what the storage of a submission needs at the least, in one
  transaction: the row, and an audit row that refers to it;
- ``GET /readyz``: 200 once the pool is open.

    uv run python bench/raw_intake.py --port 8001 --workers 1 \\
        --dsn postgresql://postgres@127.0.0.1:5432/madoguchi_bench_intake
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asyncpg
import uvicorn

DSN_VARIABLE = "RAW_INTAKE_DSN"
POOL_VARIABLE = "RAW_INTAKE_POOL_SIZE"
TABLES = """
CREATE TABLE IF NOT EXISTS raw_intake (
    id bigserial PRIMARY KEY,
    body json NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS raw_intake_events (
    id bigserial PRIMARY KEY,
    intake_id bigint NOT NULL REFERENCES raw_intake (id),
    action text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
"""
INSERT = "INSERT INTO raw_intake (body) VALUES ($1) RETURNING id"
INSERT_EVENT = "INSERT INTO raw_intake_events (intake_id, action) VALUES ($1, 'submitted')"
MAX_BODY = 1_000_000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_pool: asyncpg.Pool | None = None


async def create_tables(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(TABLES)
    finally:
        await connection.close()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The whole application: lifespan, two POST routes and a readiness probe."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    route = (scope["method"], scope["path"])
    if route == ("GET", "/readyz"):
        await _answer(send, 200, {"status": "ready"})
    elif route == ("POST", "/intake"):
        await _intake(receive, send, audited=False)
    elif route == ("POST", "/intake/audited"):
        await _intake(receive, send, audited=True)
    else:
        await _answer(send, 404, {"detail": "not found"})


async def _lifespan(receive: Receive, send: Send) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get(POOL_VARIABLE, "10"))
            _pool = await asyncpg.create_pool(
                os.environ[DSN_VARIABLE], min_size=size, max_size=size
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _intake(receive: Receive, send: Send, *, audited: bool) -> None:
    body = await _body(receive)
    if body is None:
        await _answer(send, 413, {"detail": "too large"})
        return
    assert _pool is not None  # the lifespan opened it before any request
    try:
        async with _pool.acquire() as connection:
            if audited:
                async with connection.transaction():
                    new_id = await connection.fetchval(INSERT, body.decode())
                    await connection.execute(INSERT_EVENT, new_id)
            else:
                new_id = await connection.fetchval(INSERT, body.decode())
    except (asyncpg.DataError, UnicodeDecodeError):  # not JSON: PostgreSQL refused it
        await _answer(send, 422, {"detail": "the body is not JSON"})
        return
    await _answer(send, 201, {"id": new_id})


async def _body(receive: Receive) -> bytes | None:
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=10, help="connections per worker")
    parser.add_argument("--dsn", required=True, help="postgresql://… of the bench database")
    args = parser.parse_args()
    asyncio.run(create_tables(args.dsn))
    # The workers are new processes: they find the database and pool size in the environment.
    os.environ[DSN_VARIABLE] = args.dsn
    os.environ[POOL_VARIABLE] = str(args.pool_size)
    uvicorn.run(
        "raw_intake:app",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
