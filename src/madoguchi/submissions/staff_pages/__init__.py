"""Staff pages of submissions, under ``/staff``: choose a body, its procedures, the submissions
of one, one submission with its attachments and audit record, and the body's webhooks.

Every route needs the interim staff credential (``core.staff.StaffUser``). The body in the path
scopes everything: a submission, a file or a webhook of another body is answered 404, exactly as
one that does not exist, so ids cannot be probed across bodies.

* ``bodies``: finding a body, and a body's procedures with their submission counts.
* ``listing``: a procedure's submissions, filtered and paged with ``submissions.queries`` — the
  same ``Filters`` as the exports it links to, so what staff see is what they download.
* ``one``: one submission, and the download of a file its answers name.
* ``hooks``: the body's webhooks and their delivery log.
"""

from fastapi import APIRouter

from madoguchi.submissions.staff_pages.bodies import router as bodies_router
from madoguchi.submissions.staff_pages.hooks import router as hooks_router
from madoguchi.submissions.staff_pages.listing import router as listing_router
from madoguchi.submissions.staff_pages.one import router as one_router

router = APIRouter(include_in_schema=False)
for part in (bodies_router, listing_router, one_router, hooks_router):
    router.include_router(part)

__all__ = ["router"]
