"""Japanese era dates: every way people write a date, the eras' exact edges, and clear refusals."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput
from madoguchi.core.wareki import ERAS, era_of, format_date, format_wareki, parse_date

APRIL_FIRST = dt.date(2024, 4, 1)
MODERN = st.dates(min_value=dt.date(1873, 1, 1), max_value=dt.date(2100, 12, 31))


@pytest.mark.parametrize(
    "text",
    [
        "2024-04-01",
        "2024/4/1",
        "2024.04.01",
        "2024年4月1日",
        "２０２４年４月１日",
        "２０２４－０４－０１",
        " 2024 年 4 月 1 日 ",
        "令和6年4月1日",
        "令和６年４月１日",
        "R6.4.1",
        "R06/04/01",
        "r6.4.1",
        "Ｒ６．４．１",
        "R6-4-1",
        "R6年4月1日",
        "令和6年4月1",
        "㋿6年4月1日",
    ],
)
def test_the_ways_people_write_a_date(text: str) -> None:
    assert parse_date(text) == APRIL_FIRST


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("令和1年5月1日", dt.date(2019, 5, 1)),
        ("H31.4.30", dt.date(2019, 4, 30)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        ("S64.1.7", dt.date(1989, 1, 7)),
        ("昭和元年12月25日", dt.date(1926, 12, 25)),
        ("大正15年12月24日", dt.date(1926, 12, 24)),
        ("T1.7.30", dt.date(1912, 7, 30)),
        ("明治45年7月29日", dt.date(1912, 7, 29)),
        ("M1.1.25", dt.date(1868, 1, 25)),
        ("㍻31年4月30日", dt.date(2019, 4, 30)),
    ],
)
def test_era_dates_at_their_edges(text: str, date: dt.date) -> None:
    assert parse_date(text) == date


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("平成31年5月1日", "平成 ended on 2019-04-30, and 令和 began the next day"),
        ("H32.1.1", "平成 ended on 2019-04-30"),
        ("令和1年4月30日", "令和 began on 2019-05-01"),
        ("昭和64年1月8日", "昭和 ended on 1989-01-07, and 平成 began the next day"),
        ("大正15年12月25日", "大正 ended on 1926-12-24"),
        ("明治45年7月30日", "明治 ended on 1912-07-29"),
        ("明治元年1月24日", "明治 began on 1868-01-25"),
        ("2024年2月30日", "the day must be between 1 and 29"),
        ("2023-02-29", "the day must be between 1 and 28"),
        ("2024-04-31", "the day must be between 1 and 30"),
        ("2024-01-00", "the day must be between 1 and 31"),
        ("2024-13-01", "the month must be between 1 and 12"),
        ("令和0年5月1日", "the first year of an era is 1"),
        ("0000-01-01", "the year must be 1 or later"),
        ("2024-4/1", "enter it like 2024-04-01"),
        ("24-04-01", "enter it like 2024-04-01"),
        ("X6.4.1", "enter it like 2024-04-01"),
        ("令和六年四月一日", "enter it like 2024-04-01"),
        ("", "enter it like 2024-04-01"),
    ],
)
def test_impossible_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_date(text, field="moved_on")

    assert reason in str(raised.value)
    assert raised.value.field == "moved_on"
    assert raised.value.params["value"] == text


def test_eras_follow_each_other_without_gaps() -> None:
    for era, following in itertools.pairwise(ERAS):
        assert era.end == following.start - dt.timedelta(days=1)
    assert ERAS[-1].end is None
    assert era_of(dt.date(1868, 1, 24)) is None


def test_formats() -> None:
    assert format_wareki(APRIL_FIRST) == "令和6年4月1日"
    assert format_wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"
    assert format_wareki(dt.date(2019, 4, 30)) == "平成31年4月30日"
    assert format_date(APRIL_FIRST, "ja") == "2024年4月1日 (令和6年)"
    assert format_date(dt.date(1989, 1, 8), "ja") == "1989年1月8日 (平成元年)"
    assert format_date(APRIL_FIRST, "en") == "1 April 2024"
    assert format_date(dt.date(1860, 12, 31), "en") == "31 December 1860"
    assert format_date(dt.date(1860, 12, 31), "ja") == "1860年12月31日"


def test_no_era_before_meiji() -> None:
    with pytest.raises(ValueError, match="before the first era"):
        format_wareki(dt.date(1868, 1, 24))


@given(MODERN)
def test_every_date_formats_to_wareki_and_back(date: dt.date) -> None:
    assert parse_date(format_wareki(date)) == date
    assert parse_date(date.isoformat()) == date


@given(MODERN)
def test_every_date_round_trips_through_the_era_letter(date: dt.date) -> None:
    era = era_of(date)
    assert era is not None
    short = f"{era.letter}{date.year - era.start.year + 1:02d}.{date.month}.{date.day}"

    assert parse_date(short.lower()) == date


@given(st.text(max_size=30) | st.text("0123456789年月日元令和平成RHSMTrh./-－ ０１", max_size=14))
def test_junk_is_refused_only_with_invalid_input(text: str) -> None:
    try:
        parse_date(text, field="f")
    except InvalidInput as error:
        assert error.field == "f"


@given(
    st.sampled_from(["明治", "大正", "昭和", "平成", "令和", "M", "T", "S", "H", "R"]),
    st.integers(0, 99),
    st.integers(0, 13),
    st.integers(0, 32),
)
def test_era_shaped_input_is_a_date_in_its_era_or_refused(
    era_token: str, year: int, month: int, day: int
) -> None:
    try:
        date = parse_date(f"{era_token}{year}年{month}月{day}日")
    except InvalidInput:
        return
    era = era_of(date)
    assert era is not None
    assert era_token in (era.name, era.letter)
