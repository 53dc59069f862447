"""Procedures that ask who the applicant is: a visitor whose session is weaker than the
procedure demands is asked to sign in, or to step up (the card after an email link), and comes
back to where they were. Nobody is refused outright, and no draft is made before they can go on.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from madoguchi.core.templating import render
from madoguchi.identity.models import Assurance
from madoguchi.identity.sessions import visitor
from madoguchi.procedures.definition import Assurance as Demanded
from madoguchi.procedures.definition import Definition

LEVELS = {Demanded.NONE: Assurance.NONE, Demanded.LOW: Assurance.LOW, Demanded.HIGH: Assurance.HIGH}


def needed_level(definition: Definition) -> Assurance:
    return LEVELS[definition.assurance]


def sign_in_needed(request: Request, definition: Definition, back_to: str) -> HTMLResponse | None:
    """None when this session is strong enough; otherwise the page that says how to go on."""
    needed = needed_level(definition)
    who = visitor(request)
    if who.assurance >= needed:
        return None
    query = urlencode({"next": back_to, "level": needed.name.lower()})
    html = render(
        "submissions/sign_in_needed.html",
        request=request,
        definition=definition,
        high=needed is Assurance.HIGH,
        stepping_up=who.signed_in,
        sign_in_url=f"/sign-in?{query}",
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
