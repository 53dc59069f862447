"""One applicant's journey through a draft: the draft found and checked, the version it answers,
where it stands on the path, and its addresses.

A draft is looked up within the tenant of ``{code}``, must belong to ``{slug}``'s procedure, and
may be opened only by the browser that made it or by whoever proved its email address; anything
else is "not found", so ids cannot be probed. The path is decided by the logic engine over the
answers kept: a page is open when every page before it on the path has been completed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from madoguchi.core.clock import today_in_japan
from madoguchi.core.crypto import DecryptionError
from madoguchi.core.errors import NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.procedures import service as procedures
from madoguchi.procedures.answers import AnswerContext
from madoguchi.procedures.definition import Definition, Page, Question
from madoguchi.procedures.logic import (
    End,
    Exit,
    NextPage,
    Step,
    computed_values,
    next_step,
    path,
    visible_questions,
)
from madoguchi.procedures.logic import prune as prune_answers
from madoguchi.submissions.access import check_draft_access
from madoguchi.submissions.drafts import Draft, DraftContent, find_draft, open_content, seal_content
from madoguchi.tenants import service as tenants

GONE = N_("There is no draft at this address, or it has expired.")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def parse_id(text: str, message: str = GONE) -> uuid.UUID:
    """An id from an address; a malformed one is "not found", like an unknown one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(message) from None


@dataclass
class Journey:
    request: Request
    session: AsyncSession
    tenant: tenants.Tenant
    procedure: procedures.Procedure
    draft: Draft
    content: DraftContent
    definition: Definition
    today: dt.date

    # --- addresses -------------------------------------------------------------------------

    @property
    def start_url(self) -> str:
        return f"/bodies/{self.tenant.code}/procedures/{self.procedure.slug}"

    @property
    def url(self) -> str:
        return f"{self.start_url}/drafts/{self.draft.id}"

    def page_url(self, page_id: str, *, returning: bool = False) -> str:
        return f"{self.url}/pages/{page_id}" + ("?from=check" if returning else "")

    @property
    def check_url(self) -> str:
        return f"{self.url}/check"

    @property
    def submit_url(self) -> str:
        return f"{self.url}/submit"

    @property
    def save_url(self) -> str:
        return f"{self.url}/save"

    def exit_url(self, exit_id: str) -> str:
        return f"{self.url}/exits/{exit_id}"

    def receipt_url(self, submission_id: uuid.UUID) -> str:
        return receipt_url(self.tenant.code, submission_id)

    # --- settings --------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return settings_of(self.request)

    @property
    def context(self) -> AnswerContext:
        return AnswerContext.of(self.settings)

    def save(self) -> None:
        """Seal the content back into the draft (the request's unit of work commits it)."""
        settings = self.settings
        now = dt.datetime.now(dt.UTC)
        seal_content(
            self.draft, self.content, settings.resolved_secret_key(), now, settings.draft_days
        )

    # --- where the applicant stands ----------------------------------------------------------

    def kept(self, answers: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The answers on the path (hidden and skipped ones dropped)."""
        return prune_answers(
            self.definition, self.content.answers if answers is None else answers, self.today
        )

    def condition_values(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """What conditions see: the answers kept and the computed values over them."""
        kept = self.kept(answers)
        return {**kept, **computed_values(self.definition, kept, self.today)}

    def path(self) -> list[str]:
        return path(self.definition, self.content.answers, self.today)

    def ending(self) -> Step:
        """Where the path leads after its last page: the check page, or an exit."""
        pages = self.path()
        if not pages:
            return End()
        return next_step(self.definition, pages[-1], self.content.answers, self.today)

    def page_by_id(self, page_id: str) -> Page:
        for page in self.definition.pages:
            if page.id == page_id:
                return page
        raise NotFound("There is no page {page_id} in this procedure", page_id=page_id)

    def is_open(self, page_id: str) -> bool:
        """On the path, with every page before it on the path completed."""
        for each in self.path():
            if each == page_id:
                return True
            if each not in self.content.visited:
                return False
        return False

    def resume_url(self) -> str:
        """The first page on the path not yet completed; else the check page, or the exit."""
        for page_id in self.path():
            if page_id not in self.content.visited:
                return self.page_url(page_id)
        ending = self.ending()
        return self.exit_url(ending.exit_id) if isinstance(ending, Exit) else self.check_url

    def after(self, page_id: str, *, returning: bool) -> tuple[str, str | None]:
        """Where to go once a page passed, and that page's id: its next step; back to the check
        page after a change, unless the change opened pages not yet completed."""
        step = next_step(self.definition, page_id, self.content.answers, self.today)
        if isinstance(step, Exit):
            return self.exit_url(step.exit_id), None
        if returning:
            pending = [p for p in self.path() if p not in self.content.visited]
            if pending:
                return self.page_url(pending[0], returning=True), pending[0]
            return self.check_url, None
        if isinstance(step, NextPage):
            return self.page_url(step.page_id), step.page_id
        return self.check_url, None

    def back_url(self, page_id: str, *, returning: bool) -> str:
        if returning:
            return self.check_url
        pages = self.path()
        before = pages[: pages.index(page_id)] if page_id in pages else []
        return self.page_url(before[-1]) if before else self.start_url

    def shown_questions(self) -> dict[str, list[Question]]:
        """Per page on the path, the questions shown there (decided on the answers kept)."""
        values = self.condition_values(self.content.answers)
        return {
            page_id: visible_questions(self.page_by_id(page_id), values) for page_id in self.path()
        }


def receipt_url(code: str, submission_id: uuid.UUID) -> str:
    return f"/bodies/{code}/submissions/{submission_id}"


async def load_journey(
    request: Request, session: AsyncSession, code: str, slug: str, draft_id: str
) -> Journey:
    """The draft at this address, if this browser may open it; NotFound otherwise."""
    tenant = await tenants.get_tenant(session, code)
    procedure = await procedures.get_procedure(session, tenant.code, slug)
    draft = await find_draft(session, tenant.id, parse_id(draft_id))
    if draft.procedure_id != procedure.id:
        raise NotFound(GONE)
    check_draft_access(request, draft)
    try:
        content = open_content(draft, settings_of(request).resolved_secret_key())
    except DecryptionError:  # sealed under a key no longer in use: as good as gone
        raise NotFound(GONE) from None
    definition = await procedures.definition_of(
        session, content.version_tenant_id, content.version_procedure_id, content.version
    )
    return Journey(
        request, session, tenant, procedure, draft, content, definition, today_in_japan()
    )
