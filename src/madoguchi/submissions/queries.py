"""Finding a procedure's submissions: filters from a query string, a page of them, or a stream.

The same ``Filters`` drive the staff list and every export, so what staff see on screen is what
they download. Dates are days in Japan (Asia/Tokyo): "to 2024-04-30" includes that whole day.
The text filter matches a reference number (typed loosely) exactly, or any text inside the
answers or the email address: the answers column is JSON, cast to text and searched with LIKE
(wildcards escaped), which works the same on SQLite and PostgreSQL. The JSON is written with
non-ASCII characters escaped (``\\u5c71``), so the search looks for both spellings.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import JAPAN
from madoguchi.core.errors import InvalidInput
from madoguchi.core.reference_numbers import parse_reference
from madoguchi.core.tenancy import enter_tenant
from madoguchi.core.text import nfc
from madoguchi.core.wareki import parse_date
from madoguchi.submissions.models import Submission

MAX_TEXT_LENGTH = 200
MAX_PER_PAGE = 200
STREAM_BATCH = 200  # rows fetched from the server at a time: bounded memory, few round trips


@dataclass(frozen=True)
class Filters:
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    text: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.submitted_from or self.submitted_to or self.text)


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from a query string (``from``, ``to``, ``q``); a bad value names its field."""
    submitted_from = _date_param(params, "from")
    submitted_to = _date_param(params, "to")
    if submitted_from and submitted_to and submitted_from > submitted_to:
        raise InvalidInput("The start date must not be after the end date.", field="from")
    text = nfc(params.get("q", "")).strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(
            "Search for at most {limit} characters.", field="q", limit=MAX_TEXT_LENGTH
        )
    return Filters(submitted_from, submitted_to, text or None)


def _date_param(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = params.get(name, "").strip()
    return parse_date(raw, field=name) if raw else None


def to_query(filters: Filters) -> str:
    """The query string that ``parse_filters`` reads back as the same filters (no leading ?)."""
    pairs = [
        ("from", filters.submitted_from.isoformat() if filters.submitted_from else None),
        ("to", filters.submitted_to.isoformat() if filters.submitted_to else None),
        ("q", filters.text),
    ]
    return urlencode([(name, value) for name, value in pairs if value])


async def page_of_submissions(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    procedure_id: uuid.UUID,
    filters: Filters,
    page: int,
    per_page: int = 50,
) -> tuple[list[Submission], int]:
    """One page (from 1) of the matching submissions, newest first, and how many match."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    total = await count_submissions(session, tenant_id, procedure_id, filters)  # enters it
    rows = await session.scalars(
        select(Submission)
        .where(*_conditions(tenant_id, procedure_id, filters))
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows), total


async def count_submissions(
    session: AsyncSession, tenant_id: uuid.UUID, procedure_id: uuid.UUID, filters: Filters
) -> int:
    await enter_tenant(session, tenant_id)
    conditions = _conditions(tenant_id, procedure_id, filters)
    total = await session.scalar(select(func.count()).select_from(Submission).where(*conditions))
    return total or 0


async def stream_submissions(
    session: AsyncSession, tenant_id: uuid.UUID, procedure_id: uuid.UUID, filters: Filters
) -> AsyncIterator[Submission]:
    """Every matching submission, oldest first, fetched in batches from a server-side cursor.

    Each row is dropped from the session once yielded, so memory stays flat however many there
    are.
    """
    await enter_tenant(session, tenant_id)
    query = (
        select(Submission)
        .where(*_conditions(tenant_id, procedure_id, filters))
        .order_by(Submission.submitted_at, Submission.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    result = await session.stream_scalars(query)
    try:
        async for submission in result:
            yield submission
            session.expunge(submission)
    finally:
        await result.close()


def _conditions(
    tenant_id: uuid.UUID, procedure_id: uuid.UUID, filters: Filters
) -> list[ColumnElement[bool]]:
    conditions = [Submission.tenant_id == tenant_id, Submission.procedure_id == procedure_id]
    if filters.submitted_from is not None:
        conditions.append(Submission.submitted_at >= _start_of_day(filters.submitted_from))
    if filters.submitted_to is not None:
        next_day = filters.submitted_to + dt.timedelta(days=1)
        conditions.append(Submission.submitted_at < _start_of_day(next_day))
    if filters.text:
        conditions.append(_text_matches(filters.text))
    return conditions


def _start_of_day(day: dt.date) -> dt.datetime:
    """Midnight in Japan, in UTC (as stored)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=JAPAN).astimezone(dt.UTC)


def _text_matches(text: str) -> ColumnElement[bool]:
    needle = text.lower()
    escaped = json.dumps(needle)[1:-1]  # how the JSON column spells it: quotes, \uXXXX
    answers = func.lower(cast(Submission.answers, String))
    matches = [
        answers.contains(needle, autoescape=True),
        answers.contains(escaped, autoescape=True),
        func.lower(Submission.email).contains(needle, autoescape=True),
    ]
    reference = _as_reference(text)
    if reference is not None:
        matches.append(Submission.reference == reference)
    return or_(*matches)


def _as_reference(text: str) -> str | None:
    try:
        return parse_reference(text)
    except InvalidInput:
        return None
