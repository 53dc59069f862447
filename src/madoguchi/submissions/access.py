"""Who may open a draft or a submission in a browser.

The person signed in who made it may, on any device. What was made without signing in may be
opened by the browser that made it (its session remembers the id: nobody need sign in to apply)
and by a browser that proved, by a one-time link, the email address it was made with. Anything
else is answered "not found", so ids cannot be probed.
"""

from __future__ import annotations

from starlette.requests import Request

from madoguchi.core.errors import NotFound
from madoguchi.core.sessions import remembers, signed_in_email
from madoguchi.identity.sessions import visitor
from madoguchi.submissions.models import Draft, Submission


def may_open(request: Request, kind: str, item: Draft | Submission) -> bool:
    """Made by a signed-in person: only that person, signed in. (A browser's memory is not
    enough: a signed-in session that timed out on a shared computer must not leave the next
    person its drafts.) Otherwise: the browser that made it, or the email address it was made
    with, proven."""
    if item.person_id is not None:
        return visitor(request).person_id == item.person_id
    email = signed_in_email(request)
    return remembers(request, kind, str(item.id)) or (
        email is not None and item.email is not None and email == item.email
    )


def check_draft_access(request: Request, draft: Draft) -> None:
    if not may_open(request, "drafts", draft):
        raise NotFound("There is no draft at this address, or it has expired.")


def check_submission_access(request: Request, submission: Submission) -> None:
    if not may_open(request, "submissions", submission):
        raise NotFound("There is no submission at this address.")
