"""Staff pages of submissions, under ``/staff``: choose a body, its procedures, the submissions
of one, one submission with its attachments and audit record, and the body's webhooks.

Every route names the least role it needs (``identity.staff_access``: viewers read submissions
and their files, supervisors reveal a My Number, administrators manage webhooks); an official of
another body, or nobody signed in, is refused before anything is looked up. The body in the path
scopes everything: a submission, a file or a webhook of another body is answered 404, exactly as
one that does not exist, so ids cannot be probed across bodies.

* ``bodies``: finding a body, and a body's procedures with their submission counts.
* ``listing``: a procedure's submissions, filtered and paged with ``submissions.queries`` — the
  same ``Filters`` as the exports it links to, so what staff see is what they download.
* ``one``: one submission, and the download of a file its answers name.
* ``my_number``: revealing one My Number of a submission, with a declared purpose (audited).
* ``hooks``: the body's webhooks and their delivery log.
"""

from fastapi import APIRouter

from madoguchi.submissions.staff_pages.bodies import router as bodies_router
from madoguchi.submissions.staff_pages.hooks import router as hooks_router
from madoguchi.submissions.staff_pages.listing import router as listing_router
from madoguchi.submissions.staff_pages.my_number import router as my_number_router
from madoguchi.submissions.staff_pages.one import router as one_router

router = APIRouter(include_in_schema=False)
for part in (bodies_router, listing_router, one_router, my_number_router, hooks_router):
    router.include_router(part)

__all__ = ["router"]
