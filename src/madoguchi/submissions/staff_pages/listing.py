"""A procedure's submissions: newest first, filtered by date, searched by reference or text,
a page at a time, with links that export exactly what is listed."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.forms import FormError, FormErrors, Pagination, page_numbers, parse_page_number
from madoguchi.core.i18n import _
from madoguchi.core.templating import render
from madoguchi.identity.staff_access import StaffViewer
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition
from madoguchi.submissions.display import answer_rows, text_language
from madoguchi.submissions.models import Submission
from madoguchi.submissions.queries import Filters, page_of_submissions, parse_filters, to_query
from madoguchi.submissions.staff_pages.shared import channel_label, procedure_title, when
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/staff", include_in_schema=False)

PER_PAGE = 25
MAX_PAGE = 10_000
SUMMARY_TYPES = {"person_name", "short_text", "email", "corporate_number", "long_text"}
SUMMARY_ANSWERS = 2
SUMMARY_LENGTH = 60
EXPORTS = (("CSV", ".csv"), ("Excel (XLSX)", ".xlsx"), ("JSON", ".json"))


@dataclass(frozen=True)
class ListedSubmission:
    submission: Submission
    submitted: str
    channel: str
    summary: str

    @property
    def summary_language(self) -> str | None:
        return text_language(self.summary)


@dataclass(frozen=True)
class Listing:
    items: list[ListedSubmission]
    total: int
    pagination: Pagination


@router.get("/bodies/{code}/procedures/{slug}/submissions", response_class=HTMLResponse)
async def submissions_page(
    request: Request, code: str, slug: str, session: Session, staff: StaffViewer, page: str = "1"
) -> HTMLResponse:
    tenant = await tenants.get_tenant(session, code)
    procedure = await procedures.get_procedure(session, tenant.code, slug)
    base = f"/staff/bodies/{tenant.code}/procedures/{slug}/submissions"
    errors = FormErrors()
    filters = errors.attempt(lambda: parse_filters(request.query_params))
    number = errors.attempt(lambda: parse_page_number(page, MAX_PAGE))
    listing = None
    if filters is not None and number is not None:
        listing = await _listing(session, procedure, filters, number)
        if number > listing.pagination.pages:
            errors.items.append(_no_such_page(base, filters, listing.pagination.pages))
            listing = None
    query = to_query(filters) if filters is not None else ""
    html = render(
        "staff/submissions.html",
        request=request,
        tenant=tenant,
        slug=slug,
        title=await procedure_title(session, procedure),
        typed=request.query_params,
        errors=errors,
        listing=listing,
        filtered=filters is not None and filters.any,
        page_href=_page_href(base, query),
        exports=[(label, f"{base}{suffix}", query) for label, suffix in EXPORTS],
        in_template=(f"{base}/in-template.xlsx", query),
    )
    return HTMLResponse(html, status_code=422 if errors.items else 200)


async def _listing(
    session: AsyncSession, procedure: procedures.Procedure, filters: Filters, number: int
) -> Listing:
    found, total = await page_of_submissions(
        session, procedure.tenant_id, procedure.id, filters, number, PER_PAGE
    )
    pages = max(1, math.ceil(total / PER_PAGE))
    pagination = Pagination(number, pages, page_numbers(number, pages))
    return Listing(await _listed(session, found), total, pagination)


def _page_href(base: str, query: str) -> Callable[[int], str]:
    def href(number: int) -> str:
        page = f"page={number}" if number > 1 else ""
        joined = "&".join(part for part in (query, page) if part)
        return f"{base}?{joined}" if joined else base

    return href


def _no_such_page(base: str, filters: Filters, pages: int) -> FormError:
    message = _(
        "There is no such page: the results fill {pages} pages at most. Go to the last page.",
        pages=pages,
    )
    return FormError(message, href=_page_href(base, to_query(filters))(pages))


async def _listed(session: AsyncSession, found: list[Submission]) -> list[ListedSubmission]:
    definitions: dict[tuple[uuid.UUID, uuid.UUID, int], Definition] = {}
    listed = []
    for submission in found:
        key = (submission.version_tenant_id, submission.version_procedure_id, submission.version)
        if key not in definitions:  # a page of submissions shares a version or two
            definitions[key] = await procedures.definition_of(session, *key)
        listed.append(
            ListedSubmission(
                submission,
                when(submission.submitted_at),
                channel_label(submission.channel),
                summary_of(definitions[key], submission),
            )
        )
    return listed


def summary_of(definition: Definition, submission: Submission) -> str:
    """A glance at who and what: the first answers that name or say something, shortened."""
    types = {q.id: q.type for page in definition.pages for q in page.questions}
    rows = answer_rows(definition, submission.answers, {})
    telling = [row for row in rows if types.get(row.question_id) in SUMMARY_TYPES]
    text = " ".join(" / ".join(row.text for row in telling[:SUMMARY_ANSWERS]).split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"
