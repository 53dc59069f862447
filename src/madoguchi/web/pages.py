"""Portal pages that belong to no single domain: home and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from madoguchi.core import i18n
from madoguchi.core.dependencies import Session
from madoguchi.core.templating import render
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: Session) -> HTMLResponse:
    prefectures = await tenants.list_prefectures(session)
    return HTMLResponse(render("home.html", request=request, prefectures=prefectures))


@router.get("/language/{language}")
async def switch_language(
    request: Request, language: str, next: Annotated[str, Query(max_length=2000)] = "/"
) -> RedirectResponse:
    """A plain link switches language (no JavaScript); it returns to the same page."""
    chosen = i18n.parse_language(language) or "ja"
    response = RedirectResponse(_local_path(next), status_code=303)
    response.set_cookie(
        "lang",
        chosen,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _local_path(target: str) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
