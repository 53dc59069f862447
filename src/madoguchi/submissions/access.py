"""Who may open a draft or a submission in a browser, until [P3] brings real sign-in.

The browser that made it may (its signed session remembers the id), and so may a browser that
proved, by a one-time link, the email address the draft or submission was made with. Anything
else is answered "not found", so ids cannot be probed.
"""

from __future__ import annotations

from starlette.requests import Request

from madoguchi.core.errors import NotFound
from madoguchi.core.sessions import remembers, signed_in_email
from madoguchi.submissions.models import Draft, Submission


def may_open(request: Request, kind: str, item: Draft | Submission) -> bool:
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
