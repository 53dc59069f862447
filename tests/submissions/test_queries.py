"""Finding submissions: filters read from a query string, pages, and the stream exports read."""

import datetime as dt
from urllib.parse import unquote_plus

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput
from madoguchi.procedures import service as procedures
from madoguchi.submissions.queries import (
    Filters,
    page_of_submissions,
    parse_filters,
    stream_submissions,
    to_query,
)
from tests.submissions.export_support import CONSULTATION, submit_opinion

JST = dt.timezone(dt.timedelta(hours=9))


def test_filters_read_western_and_japanese_era_dates() -> None:
    filters = parse_filters({"from": "令和8年12月1日", "to": "2026-12-31", "q": " 山田 "})
    assert filters == Filters(dt.date(2026, 12, 1), dt.date(2026, 12, 31), "山田")
    assert parse_filters({"from": "", "q": "  "}) == Filters()
    assert not Filters().any and filters.any


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "令和8年2月30日"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "from"),
        ({"q": "あ" * 201}, "q"),
    ],
)
def test_a_bad_filter_names_its_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filters(params)
    assert raised.value.field == field


def test_the_query_string_reads_back_as_the_same_filters() -> None:
    filters = Filters(dt.date(2026, 12, 1), None, "山田 & 100%")
    query = to_query(filters)
    assert query.startswith("from=2026-12-01&q=")
    pairs = dict(pair.split("=", 1) for pair in query.split("&"))
    assert parse_filters({k: unquote_plus(v) for k, v in pairs.items()}) == filters
    assert to_query(Filters()) == ""


async def _three(session: AsyncSession) -> tuple[object, ...]:
    procedure = await procedures.get_procedure(session, *CONSULTATION)
    first = await submit_opinion(
        session, "山田 花子", submitted_at=dt.datetime(2026, 12, 1, 0, 30, tzinfo=JST)
    )
    second = await submit_opinion(
        session,
        "Taro Suzuki",
        email="Taro@example.jp",
        submitted_at=dt.datetime(2026, 12, 1, 23, 59, tzinfo=JST),
    )
    third = await submit_opinion(
        session, "佐藤 100%_次郎", submitted_at=dt.datetime(2026, 12, 2, 0, 0, tzinfo=JST)
    )
    return procedure, first, second, third


async def _references(session: AsyncSession, filters: Filters) -> list[str]:
    procedure = await procedures.get_procedure(session, *CONSULTATION)
    found = stream_submissions(session, procedure.tenant_id, procedure.id, filters)
    return [submission.reference async for submission in found]


async def test_dates_are_whole_days_in_japan(session: AsyncSession) -> None:
    _, first, second, third = await _three(session)
    day = dt.date(2026, 12, 1)
    assert await _references(session, Filters(day, day)) == [first.reference, second.reference]
    assert await _references(session, Filters(submitted_from=dt.date(2026, 12, 2))) == [
        third.reference
    ]
    assert await _references(session, Filters(submitted_to=dt.date(2026, 11, 30))) == []


async def test_text_finds_answers_email_and_references(session: AsyncSession) -> None:
    _, first, second, third = await _three(session)
    assert await _references(session, Filters(text="花子")) == [first.reference]
    assert await _references(session, Filters(text="taro@EXAMPLE")) == [second.reference]
    assert await _references(session, Filters(text="suzuki")) == [second.reference]
    # wildcards are searched for as themselves
    assert await _references(session, Filters(text="100%_")) == [third.reference]
    assert await _references(session, Filters(text="%")) == [third.reference]
    loosely = third.reference.lower().replace("-", " ")
    assert await _references(session, Filters(text=loosely)) == [third.reference]


async def test_pages_are_newest_first_with_the_total(session: AsyncSession) -> None:
    procedure, first, second, third = await _three(session)
    assert isinstance(procedure, procedures.Procedure)
    page, total = await page_of_submissions(
        session, procedure.tenant_id, procedure.id, Filters(), page=1, per_page=2
    )
    assert total == 3
    assert [s.reference for s in page] == [third.reference, second.reference]
    page, total = await page_of_submissions(
        session, procedure.tenant_id, procedure.id, Filters(), page=2, per_page=2
    )
    assert [s.reference for s in page] == [first.reference]
    page, total = await page_of_submissions(
        session, procedure.tenant_id, procedure.id, Filters(text="花子"), page=1
    )
    assert total == 1 and [s.reference for s in page] == [first.reference]


async def test_another_procedures_submissions_are_never_found(session: AsyncSession) -> None:
    await _three(session)
    other = await procedures.get_procedure(session, "meti", "small-business-subsidy")
    found = stream_submissions(session, other.tenant_id, other.id, Filters())
    assert [s async for s in found] == []
    page, total = await page_of_submissions(session, other.tenant_id, other.id, Filters(), page=1)
    assert (page, total) == ([], 0)
