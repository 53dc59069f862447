"""What a browser's session keeps between pages, read and written as ``request.session``.

The session itself is server-side (``identity.sessions.ServerSessions``: the cookie holds only a
random token). These helpers use its data: the token that guards every form against cross-site
requests, the ids of the drafts and submissions made in this browser, and the email address a
one-time link proved. Who is signed in, and how strongly, is ``identity.sessions.visitor``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_

SESSION_COOKIE = "madoguchi_session"
CSRF_FIELD = "csrf_token"
REMEMBERED = 20  # drafts and submissions remembered per browser; the oldest are forgotten


class CsrfFailure(MadoguchiError):
    code = "form-expired"
    status = 400
    title = N_("The form has expired")


def csrf_token(request: Request) -> str:
    """This browser's form token (made on first use); every form posts it back."""
    session = request.session
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def check_csrf(request: Request, form: Any) -> None:
    """Refuse a form that did not come from one of our own pages in this browser."""
    expected = request.session.get(CSRF_FIELD)
    given = form.get(CSRF_FIELD) if form is not None else None
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise CsrfFailure(
            N_(
                "This form has expired or did not come from this site. Go back, reload the page "
                "and send it again: what you typed before was saved."
            )
        )


def remember(request: Request, kind: str, item_id: str) -> None:
    """Note that this browser made ``item_id`` (kind: "drafts" or "submissions")."""
    items = [i for i in request.session.get(kind, []) if i != item_id]
    request.session[kind] = [*items, item_id][-REMEMBERED:]


def remembers(request: Request, kind: str, item_id: str) -> bool:
    return item_id in request.session.get(kind, [])


def remembered(request: Request, kind: str) -> list[str]:
    return list(request.session.get(kind, []))


def signed_in_email(request: Request) -> str | None:
    """The email address this browser proved with a one-time link, if any."""
    email = request.session.get("email")
    return email if isinstance(email, str) else None
