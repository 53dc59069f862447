"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from madoguchi import migrations

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    head = request.app.state.head_revision
    try:
        async with request.app.state.engine.connect() as connection:
            await migrations.ping(connection)
            current = await migrations.current_revision(connection)
    except Exception as error:  # noqa: BLE001  any failure to reach the database means not ready
        return _not_ready("database unreachable", type(error).__name__)
    if current != head:
        return _not_ready("migrations not at head", f"database at {current}, code at {head}")
    return JSONResponse({"status": "ready", "revision": current})


def _not_ready(reason: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"status": "not ready", "reason": reason, "detail": detail}, status_code=503
    )
