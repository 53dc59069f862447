"""The end of a journey: check your answers, the declaration, submitting, exits and the receipt.

Submitting takes the answers kept in the draft — already parsed page by page — prunes them to the
path once more, checks that nothing required is missing, and hands them to
``submissions.service.submit`` with the draft's id, which makes one submission per draft however
often (or however concurrently) the button is pressed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request

from madoguchi.core.clock import format_moment, today_in_japan
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import _, current_language
from madoguchi.core.sessions import remember, signed_in_email
from madoguchi.core.templating import render
from madoguchi.identity.organisations import current_acting_for
from madoguchi.identity.sessions import procedure_completed, receipt_shown_once, visitor
from madoguchi.procedures import service as procedures
from madoguchi.procedures.logic import computed_values, missing_required
from madoguchi.procedures.validation import Accepted
from madoguchi.submissions import service
from madoguchi.submissions.access import check_submission_access
from madoguchi.submissions.display import AnswerRow, answer_rows
from madoguchi.submissions.drafts import version_of
from madoguchi.submissions.journey_forms import parts_of
from madoguchi.submissions.journey_state import Journey, parse_id, receipt_url, settings_of
from madoguchi.submissions.models import Channel
from madoguchi.submissions.signing import (
    Signed,
    keep_signature,
    signature_required,
    signature_shown,
)
from madoguchi.tenants import service as tenants

DECLARATION = "declaration_confirmed"


def show_check(journey: Journey, errors: FormErrors | None = None, status: int = 200) -> Response:
    kept = journey.kept()
    shown = journey.shown_questions()
    shown_ids = {q.id for questions in shown.values() for q in questions}
    rows = answer_rows(
        journey.definition,
        kept,
        computed_values(journey.definition, kept, journey.today),
        shown=shown_ids,
    )
    html = render(
        "submissions/check.html",
        request=journey.request,
        journey=journey,
        rows=rows,
        change_links={row.question_id: change_link(journey, row) for row in rows},
        errors=errors or FormErrors(),
        back_url=_last_page_url(journey),
    )
    return HTMLResponse(html, status_code=status)


def change_link(journey: Journey, row: AnswerRow) -> str | None:
    """The question's page, returning here after saving, at the question's first control."""
    if row.page_id is None:
        return None
    question = next(q for q in journey.page_by_id(row.page_id).questions if q.id == row.question_id)
    parts = parts_of(question)
    anchor = f"{question.id}.{parts[0]}" if parts else question.id
    return journey.page_url(row.page_id, returning=True) + "#" + anchor


def _last_page_url(journey: Journey) -> str:
    pages = journey.path()
    return journey.page_url(pages[-1]) if pages else journey.start_url


async def submit_draft(journey: Journey, form: FormData) -> Response:
    """Submit the draft once; a second press finds the first submission and shows its receipt.
    A procedure that asks for a signature goes to the signing page instead."""
    checked = await checked_answers(journey, form)
    if isinstance(checked, Response):
        return checked
    if signature_required(journey.definition):
        return show_signing(journey)
    return await complete(journey, checked)


async def checked_answers(journey: Journey, form: FormData) -> Accepted | Response:
    """The answers ready to submit, or where to go instead (the receipt, a closed procedure,
    a page not yet done, the declaration not confirmed)."""
    draft = journey.draft
    if draft.submission_id is not None:
        return RedirectResponse(journey.receipt_url(draft.submission_id), status_code=303)
    closed = await refusal_if_closed(journey.request, journey.session, journey.procedure)
    if closed is not None:
        return closed
    if journey.resume_url() != journey.check_url:
        return RedirectResponse(journey.resume_url(), status_code=303)
    if journey.definition.declaration is not None and form.get(DECLARATION) != "yes":
        message = _("Confirm the declaration to submit.")
        errors = FormErrors([FormError(message, DECLARATION, f"#{DECLARATION}")])
        return show_check(journey, errors, status=422)
    kept = journey.kept()
    missing = missing_required(journey.definition, kept, journey.today)
    if missing:
        return RedirectResponse(_page_of(journey, missing[0]), status_code=303)
    return Accepted(kept, computed_values(journey.definition, kept, journey.today))


async def complete(journey: Journey, accepted: Accepted, signed: Signed | None = None) -> Response:
    """Submit, keep the signature with the submission, and show the receipt."""
    submitted = await service.submit(
        journey.session,
        journey.procedure,
        await version_of(journey.session, journey.content),
        accepted,
        _intake(journey, await current_acting_for(journey.request, journey.session)),
    )
    if signed is not None and not submitted.replayed:
        keep_signature(submitted.submission, signed)
        await journey.session.flush()
    _close(journey, submitted.submission)
    return RedirectResponse(journey.receipt_url(submitted.submission.id), status_code=303)


def show_signing(journey: Journey, status: int = 200) -> Response:
    """What signing with the card means, before the card reader asks for the password."""
    html = render(
        "submissions/sign.html",
        request=journey.request,
        journey=journey,
        declared=journey.definition.declaration is not None,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _intake(journey: Journey, acting_for: uuid.UUID | None) -> service.Intake:
    who = visitor(journey.request)
    return service.Intake(
        channel=Channel.WEB,
        language=current_language(),
        actor=f"person:{who.person_id}" if who.person_id else "applicant",
        email=signed_in_email(journey.request) or journey.draft.email,
        person_id=who.person_id,
        acting_for=acting_for,
        draft_id=journey.draft.id,
    )


def _close(journey: Journey, submission: service.Submission) -> None:
    """The draft now only leads to its submission: what was typed is no longer kept in it."""
    journey.draft.submission_id = submission.id
    journey.draft.current_page = None
    journey.content.answers, journey.content.typed = {}, {}
    journey.save()
    remember(journey.request, "submissions", str(submission.id))
    procedure_completed(journey.request, str(submission.id))


def _page_of(journey: Journey, name: str) -> str:
    question_id = name.split(".")[0].split("[")[0]
    for page in journey.definition.pages:
        if any(q.id == question_id for q in page.questions):
            return journey.page_url(page.id, returning=True) + "&missing=1"
    return journey.check_url


async def refusal_if_closed(
    request: Request, session: AsyncSession, procedure: procedures.Procedure
) -> Response | None:
    """A clear page when the procedure is not open today (its current dates decide)."""
    current = await procedures.current(session, procedure)
    try:
        procedures.check_open(current.definition, today_in_japan())
    except InvalidInput as refused:
        html = render(
            "submissions/closed.html",
            request=request,
            definition=current.definition,
            message=_(refused.message, **refused.params),
            start_url=f"/bodies/{_code(request)}/procedures/{procedure.slug}",
        )
        return HTMLResponse(html, status_code=409)
    return None


def _code(request: Request) -> str:
    return str(request.path_params.get("code", ""))


def show_exit(journey: Journey, exit_id: str) -> Response:
    found = next((e for e in journey.definition.exits if e.id == exit_id), None)
    if found is None:
        raise NotFound("There is no page at this address.")
    html = render(
        "submissions/exit.html",
        request=journey.request,
        journey=journey,
        exit=found,
        back_url=_last_page_url(journey),
    )
    return HTMLResponse(html)


async def show_receipt(
    request: Request, session: AsyncSession, code: str, submission_id: str
) -> Response:
    """The confirmation: the reference number, what happens next, and what was sent."""
    tenant = await tenants.get_tenant(session, code)
    missing = "There is no submission at this address."
    submission = await service.get_submission(session, parse_id(submission_id, missing), tenant.id)
    shown_once = receipt_shown_once(request, str(submission.id))
    if not shown_once:
        check_submission_access(request, submission)
    definition = await procedures.definition_of(
        session, submission.version_tenant_id, submission.version_procedure_id, submission.version
    )
    html = render(
        "submissions/receipt.html",
        request=request,
        tenant=tenant,
        definition=definition,
        submission=submission,
        submitted_at=submitted_at_text(submission.submitted_at),
        rows=answer_rows(definition, submission.answers, submission.computed),
        pdf_url=receipt_url(tenant.code, submission.id) + "/receipt.pdf",
        shown_once=shown_once,
        signature=await signature_shown(session, settings_of(request), submission, tenant.code),
        signed_at=submitted_at_text(submission.signed_at) if submission.signed_at else None,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"} if shown_once else None)


def submitted_at_text(moment: dt.datetime) -> str:
    """When, in Japan: ``2026年11月28日 (令和8年) 13:05``."""
    return format_moment(moment, current_language())
