"""Turning failures into answers: RFC 9457 problem+json on the API, a friendly page elsewhere.

Expected failures (``MadoguchiError``, validation, unknown routes) keep their status; anything
else is logged with its trace and answered 500 without one.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from madoguchi.core.errors import (
    InvalidInput,
    InvalidInputs,
    MadoguchiError,
    NotFound,
    ServiceUnavailable,
)
from madoguchi.core.i18n import _
from madoguchi.core.templating import render

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://madoguchi.jp/problems/"


def problem(
    request: Request, status: int, code: str, title: str, detail: str, **extra: Any
) -> Response:
    body = {
        "type": PROBLEM_BASE + code,
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path not in (
        "/healthz",
        "/readyz",
    )


def answer(request: Request, error: MadoguchiError) -> Response:
    response = _answer(request, error)
    response.headers.update(error.headers)
    return response


def _answer(request: Request, error: MadoguchiError) -> Response:
    if error.public_message is not None:
        detail = _(error.public_message)
    else:
        detail = _(error.message, **error.params)
    if wants_page(request):
        return error_page(request, error.status, _(error.title), detail)
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidInputs):
        extra["errors"] = [
            {"field": each.field, "detail": _(each.message, **each.params)}
            for each in error.problems
        ]
    elif error.field:
        extra["errors"] = [{"field": error.field, "detail": detail}]
    return problem(request, error.status, error.code, _(error.title), detail, **extra)


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    html = render("error.html", request=request, status=status, title=title, detail=detail)
    return HTMLResponse(html, status_code=status)


async def on_madoguchi_error(request: Request, error: Exception) -> Response:
    return answer(request, cast(MadoguchiError, error))


async def on_validation_error(request: Request, error: Exception) -> Response:
    errors = [
        {
            "field": ".".join(str(part) for part in e["loc"][1:]) or str(e["loc"][0]),
            "detail": e["msg"],
        }
        for e in cast(RequestValidationError, error).errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
    failure = InvalidInput("{summary}", summary=summary)
    if wants_page(request):
        return answer(request, failure)
    return problem(request, 422, failure.code, _(failure.title), summary, errors=errors)


async def on_http_error(request: Request, error: Exception) -> Response:
    error = cast(StarletteHTTPException, error)
    if error.status_code == 404:
        return answer(request, NotFound("There is no page at this address."))
    title = _("This request cannot be answered")
    detail = _("The address, or the way the page was asked for, is not one this site answers.")
    if wants_page(request):
        return error_page(request, error.status_code, title, detail)
    return problem(request, error.status_code, f"http-{error.status_code}", title, detail)


async def on_database_down(request: Request, error: Exception) -> Response:
    log.error("database unavailable: %s", error.__class__.__name__)
    return answer(
        request, ServiceUnavailable("The database cannot be reached. Please try again shortly.")
    )


async def on_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    title = _("Something went wrong on our side")
    detail = _("The error was recorded. Please try again later.")
    if wants_page(request):
        return error_page(request, 500, title, detail)
    return problem(request, 500, "internal-error", title, detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MadoguchiError, on_madoguchi_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(OperationalError, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
