"""The applicant's journey, server-rendered: start → question pages → check your answers →
submit → confirmation with the reference number. Every step works without JavaScript.

The addresses are fixed (other pages link to them):

- ``POST /bodies/{code}/procedures/{slug}/drafts`` starts a draft of the current version
- ``GET  …/drafts/{draft_id}`` continues where the applicant stopped
- ``GET|POST …/drafts/{draft_id}/pages/{page_id}`` one page of questions
- ``GET  …/drafts/{draft_id}/check`` and ``POST …/drafts/{draft_id}/submit``
- ``GET  …/drafts/{draft_id}/exits/{exit_id}`` why the applicant cannot go on
- ``GET  /bodies/{code}/submissions/{submission_id}`` the confirmation and receipt

The pages themselves are in ``journey_page`` (questions) and ``journey_finish`` (the rest).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from madoguchi.core.clock import today_in_japan
from madoguchi.core.dependencies import Session
from madoguchi.core.sessions import check_csrf, remember
from madoguchi.identity.sessions import visitor
from madoguchi.procedures import service as procedures
from madoguchi.procedures.logic import path
from madoguchi.submissions.drafts import create_draft
from madoguchi.submissions.journey_finish import (
    refusal_if_closed,
    show_check,
    show_exit,
    show_receipt,
    submit_draft,
)
from madoguchi.submissions.journey_page import send_page, show_page
from madoguchi.submissions.journey_state import Journey, load_journey, settings_of
from madoguchi.submissions.sign_in_gate import sign_in_needed
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)

PROCEDURE = "/bodies/{code}/procedures/{slug}"
DRAFT = PROCEDURE + "/drafts/{draft_id}"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.post(PROCEDURE + "/drafts")
async def start(request: Request, code: str, slug: str, session: Session) -> Response:
    """Start answering the procedure's current version; the draft is this browser's."""
    async with request.form() as form:
        check_csrf(request, form)
    tenant = await tenants.get_tenant(session, code)
    procedure = await procedures.get_procedure(session, tenant.code, slug)
    closed = await refusal_if_closed(request, session, procedure)
    if closed is not None:
        return closed
    current = await procedures.current(session, procedure)
    start_page = f"/bodies/{tenant.code}/procedures/{procedure.slug}"
    needed = sign_in_needed(request, current.definition, start_page)
    if needed is not None:
        return needed
    now = dt.datetime.now(dt.UTC)
    draft = await create_draft(session, procedure, current, settings_of(request), now)
    draft.person_id = visitor(request).person_id
    remember(request, "drafts", str(draft.id))
    first = path(current.definition, {}, today_in_japan())
    url = f"/bodies/{tenant.code}/procedures/{procedure.slug}/drafts/{draft.id}"
    draft.current_page = first[0] if first else None
    return _see_other(f"{url}/pages/{first[0]}" if first else f"{url}/check")


async def _journey(
    request: Request, session: Session, code: str, slug: str, draft_id: str
) -> Journey | Response:
    """The draft's journey; or the way to its receipt once it has been submitted, or to sign
    in when the procedure asks more proof of identity than this session has."""
    journey = await load_journey(request, session, code, slug, draft_id)
    if journey.draft.submission_id is not None:
        return _see_other(journey.receipt_url(journey.draft.submission_id))
    needed = sign_in_needed(request, journey.definition, journey.url)
    return journey if needed is None else needed


@router.get(DRAFT)
async def resume(
    request: Request, code: str, slug: str, draft_id: str, session: Session
) -> Response:
    journey = await _journey(request, session, code, slug, draft_id)
    if isinstance(journey, Response):
        return journey
    return _see_other(journey.resume_url())


@router.get(DRAFT + "/pages/{page_id}")
async def page(
    request: Request, code: str, slug: str, draft_id: str, page_id: str, session: Session
) -> Response:
    journey = await _journey(request, session, code, slug, draft_id)
    if isinstance(journey, Response):
        return journey
    if not journey.is_open(page_id):
        return _see_other(journey.resume_url())
    returning = request.query_params.get("from") == "check"
    missing = request.query_params.get("missing") == "1"
    return show_page(journey, journey.page_by_id(page_id), returning=returning, missing=missing)


@router.post(DRAFT + "/pages/{page_id}")
async def send(
    request: Request, code: str, slug: str, draft_id: str, page_id: str, session: Session
) -> Response:
    async with request.form() as form:  # closes the uploaded files' temporary copies
        check_csrf(request, form)
        journey = await _journey(request, session, code, slug, draft_id)
        if isinstance(journey, Response):
            return journey
        if not journey.is_open(page_id):
            return _see_other(journey.resume_url())
        returning = request.query_params.get("from") == "check"
        return await send_page(journey, journey.page_by_id(page_id), form, returning=returning)


@router.get(DRAFT + "/check")
async def check(
    request: Request, code: str, slug: str, draft_id: str, session: Session
) -> Response:
    journey = await _journey(request, session, code, slug, draft_id)
    if isinstance(journey, Response):
        return journey
    if journey.resume_url() != journey.check_url:
        return _see_other(journey.resume_url())
    return show_check(journey)


@router.post(DRAFT + "/submit")
async def submit(
    request: Request, code: str, slug: str, draft_id: str, session: Session
) -> Response:
    async with request.form() as form:
        check_csrf(request, form)
        journey = await load_journey(request, session, code, slug, draft_id)
        needed = sign_in_needed(request, journey.definition, journey.check_url)
        return needed or await submit_draft(journey, form)


@router.get(DRAFT + "/exits/{exit_id}")
async def exit_page(
    request: Request, code: str, slug: str, draft_id: str, exit_id: str, session: Session
) -> Response:
    journey = await _journey(request, session, code, slug, draft_id)
    if isinstance(journey, Response):
        return journey
    return show_exit(journey, exit_id)


@router.get("/bodies/{code}/submissions/{submission_id}")
async def receipt(request: Request, code: str, submission_id: str, session: Session) -> Response:
    """The confirmation and receipt of a submission this browser made (or proved its email)."""
    return await show_receipt(request, session, code, submission_id)
