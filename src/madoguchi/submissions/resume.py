"""Save and come back later: a draft resumed on any device from a one-time link sent by email.

The draft is already kept on the server; saving records the address a link was sent to
(``draft.email``), and whoever proves that address later (this link, or any sign-in link to it)
may open the draft again (``access.check_draft_access``). The link leads to the draft's address,
which sends the applicant on to the page where they stopped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import in_japan
from madoguchi.core.dependencies import Session
from madoguchi.core.errors import NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, current_language
from madoguchi.core.sessions import check_csrf, signed_in_email
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.core.wareki import format_date
from madoguchi.identity.email_links import TooManyLinks, create_link, link_url, parse_email
from madoguchi.notifications import mail
from madoguchi.procedures import service as procedures
from madoguchi.submissions.access import check_draft_access
from madoguchi.submissions.drafts import Draft, find_draft
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)

SAVE_PATH = "/bodies/{code}/procedures/{slug}/drafts/{draft_id}/save"
GONE = N_("There is no draft at this address, or it has expired.")


@dataclass(frozen=True)
class SavedDraft:
    """A draft with what its pages show: whose procedure it is, and where it lives."""

    tenant: tenants.Tenant
    procedure: procedures.Procedure
    definition: procedures.Definition
    draft: Draft

    @property
    def path(self) -> str:
        """The draft's address; it leads on to the page to continue from."""
        return f"/bodies/{self.tenant.code}/procedures/{self.procedure.slug}/drafts/{self.draft.id}"

    @property
    def body_name(self) -> str:
        english = current_language() == "en" and self.tenant.name_en
        return self.tenant.name_en if english and self.tenant.name_en else self.tenant.name

    @property
    def kept_until(self) -> str:
        """The last day the draft is kept, as a day in Japan."""
        last_moment = in_japan(self.draft.expires_at)
        return format_date(last_moment.date(), current_language())


async def saved_draft(
    request: Request, session: AsyncSession, code: str, slug: str, draft_id: str
) -> SavedDraft:
    """The draft at this address, if it is this tenant's and procedure's and this browser may
    open it; otherwise NotFound, the same for every reason, so ids cannot be probed."""
    tenant = await tenants.get_tenant(session, code)
    procedure = await procedures.get_procedure(session, tenant.code, slug)
    draft = await find_draft(session, tenant.id, _draft_id(draft_id))
    if draft.procedure_id != procedure.id:
        raise NotFound(GONE, field="draft")
    check_draft_access(request, draft)
    definition = await procedures.effective_definition(session, procedure)
    return SavedDraft(tenant, procedure, definition, draft)


def _draft_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(GONE, field="draft") from None


@router.get(SAVE_PATH, response_class=HTMLResponse)
async def save_form(
    request: Request, code: str, slug: str, draft_id: str, session: Session
) -> Response:
    saved = await saved_draft(request, session, code, slug, draft_id)
    if saved.draft.submission_id is not None:
        return _to_receipt(saved)
    email = signed_in_email(request) or saved.draft.email or ""
    return _save_page(request, saved, email, FormErrors())


@router.post(SAVE_PATH, response_class=HTMLResponse)
async def save(request: Request, code: str, slug: str, draft_id: str, session: Session) -> Response:
    form = await request.form()
    check_csrf(request, form)
    saved = await saved_draft(request, session, code, slug, draft_id)
    if saved.draft.submission_id is not None:
        return _to_receipt(saved)
    typed = str(form.get("email", ""))
    errors = FormErrors()
    email = errors.attempt(lambda: parse_email(typed, "email"))
    if email is None:
        return _save_page(request, saved, typed, errors, status=422)
    settings = cast(Settings, request.app.state.settings)
    try:
        token = await create_link(
            session, email, saved.path, dt.datetime.now(dt.UTC), settings, draft=saved.draft
        )
    except TooManyLinks as error:
        errors.items.append(FormError.of(error))
        return _save_page(request, saved, typed, errors, status=error.status)
    saved.draft.email = email
    await session.flush()
    await _send_link(settings, saved, email, token)  # a failure rolls back: nothing half-saved
    html = render("my/saved.html", request=request, saved=saved, email=email)
    return HTMLResponse(html)


async def _send_link(settings: Settings, saved: SavedDraft, email: str, token: str) -> None:
    await mail.send_template(
        settings,
        email,
        "resume",
        link=link_url(settings, token),
        minutes=settings.sign_in_link_minutes,
        site=settings.resolved_public_url(),
        procedure=str(saved.definition.title),
        body=saved.body_name,
        kept_until=saved.kept_until,
    )


def _save_page(
    request: Request, saved: SavedDraft, email: str, errors: FormErrors, status: int = 200
) -> HTMLResponse:
    html = render(
        "my/save.html",
        request=request,
        saved=saved,
        email=email,
        errors=errors,
        action=SAVE_PATH.format(
            code=saved.tenant.code, slug=saved.procedure.slug, draft_id=saved.draft.id
        ),
    )
    return HTMLResponse(html, status_code=status)


def _to_receipt(saved: SavedDraft) -> RedirectResponse:
    """A draft already sent has nothing to save: show what was sent instead."""
    receipt = f"/bodies/{saved.tenant.code}/submissions/{saved.draft.submission_id}"
    return RedirectResponse(receipt, status_code=303)
