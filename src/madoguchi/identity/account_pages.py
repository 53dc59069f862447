"""The signed-in person's own page: what the card says of them, how this session was proven,
and the ways to manage their passkeys, organisations and this terminal.

``/shared-terminal`` turns a help desk's browser into a shared terminal: every session on it
ends after each completed procedure, and signing out leaves a fresh, still-shared session. Anyone
may turn it on (it only makes the browser forget sooner); nobody turns it off but by clearing the
browser, which is what the help desk's staff do when the terminal is retired.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.core.clock import as_utc, format_moment
from madoguchi.core.dependencies import Session
from madoguchi.core.i18n import current_language
from madoguchi.core.sessions import check_csrf
from madoguchi.core.settings import Language
from madoguchi.core.templating import render
from madoguchi.core.wareki import format_date
from madoguchi.identity import sessions
from madoguchi.identity.people import get_person

router = APIRouter(include_in_schema=False)

ACCOUNT = "/account"
NOT_STORED = {"Cache-Control": "no-store"}


@router.get(ACCOUNT, response_class=HTMLResponse)
async def account(request: Request, session: Session) -> Response:
    who = sessions.visitor(request)
    person = await get_person(session, who.person_id) if who.person_id else None
    if person is None:
        return RedirectResponse(f"/sign-in?next={ACCOUNT}", status_code=303)
    language = current_language()
    html = render(
        "identity/account.html",
        request=request,
        person=person,
        visitor=who,
        birthdate=format_date(person.birthdate, language) if person.birthdate else None,
        verified_at=_moment(person.attributes_verified_at, language),
        signed_in_at=_moment(who.signed_in_at, language),
    )
    return HTMLResponse(html, headers=NOT_STORED)


@router.get("/shared-terminal", response_class=HTMLResponse)
async def shared_terminal_page(request: Request) -> HTMLResponse:
    html = render(
        "identity/shared_terminal.html", request=request, visitor=sessions.visitor(request)
    )
    return HTMLResponse(html)


@router.post("/shared-terminal", response_class=HTMLResponse)
async def make_shared_terminal(request: Request) -> HTMLResponse:
    check_csrf(request, await request.form())
    sessions.mark_shared_terminal(request, True)
    html = render(
        "identity/shared_terminal.html", request=request, visitor=sessions.visitor(request)
    )
    return HTMLResponse(html)


def _moment(moment: dt.datetime | None, language: Language) -> str | None:
    return format_moment(as_utc(moment), language) if moment else None
