"""Portal pages that belong to no single domain: home and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from madoguchi.core import i18n
from madoguchi.core.dependencies import Session
from madoguchi.core.templating import render
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600
MAX_NEXT_LENGTH = 2000


# The titles of the error classes in core/errors.py are class attributes, which extraction does
# not see; web/errors.py translates them where they are shown. Marked here so they are extracted.
@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: Session) -> HTMLResponse:
    prefectures = await tenants.list_prefectures(session)
    return HTMLResponse(render("home.html", request=request, prefectures=prefectures))


@router.get("/language/{language}")
async def switch_language(request: Request, language: str, next: str = "/") -> RedirectResponse:
    """A plain link switches language (no JavaScript); it returns to the same page."""
    chosen = i18n.parse_language(language) or "ja"
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(
        "lang",
        chosen,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def local_path(target: str) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or len(target) > MAX_NEXT_LENGTH
        or any(ch.isspace() or not ch.isprintable() for ch in target)
    ):
        return "/"
    return target
