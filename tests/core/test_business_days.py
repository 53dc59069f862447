"""Japanese business days: weekends, national holidays and the year-end closure."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.business_days import (
    add_business_days,
    business_days_between,
    is_business_day,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (D(2026, 11, 27), True),  # a Friday
        (D(2026, 11, 28), False),  # a Saturday
        (D(2026, 11, 23), False),  # 勤労感謝の日
        (D(2026, 5, 6), False),  # 振替休日 for 憲法記念日 on a Sunday
        (D(2026, 9, 22), False),  # 国民の休日 between 敬老の日 and 秋分の日
        (D(2026, 12, 28), True),  # the last day before the year-end closure
        (D(2026, 12, 29), False),
        (D(2027, 1, 3), False),
        (D(2027, 1, 4), True),
    ],
)
def test_which_days_the_offices_are_open(day: dt.date, open_: bool) -> None:
    assert is_business_day(day) is open_


def test_due_dates_skip_the_year_end_and_holidays() -> None:
    assert add_business_days(D(2026, 12, 28), 1) == D(2027, 1, 4)
    assert add_business_days(D(2026, 9, 18), 1) == D(2026, 9, 24)  # Silver Week
    assert add_business_days(D(2026, 4, 30), 3) == D(2026, 5, 8)  # Golden Week
    assert add_business_days(D(2026, 11, 28), 0) == D(2026, 11, 30)
    assert add_business_days(D(2026, 11, 27), 0) == D(2026, 11, 27)


def test_a_mistaken_number_of_days_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and"):
        add_business_days(D(2026, 1, 5), -1)


@given(st.dates(D(2020, 1, 1), D(2035, 12, 31)), st.integers(1, 400))
def test_counting_undoes_adding(start: dt.date, days: int) -> None:
    due = add_business_days(start, days)
    assert is_business_day(due)
    assert business_days_between(start, due) == days
    assert business_days_between(due, start) == 0
