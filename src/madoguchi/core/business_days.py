"""Japanese business days (開庁日): the days a public body's offices are open, for due dates.

A day is a business day unless it is a Saturday or a Sunday, a national holiday (国民の祝日, with
substitute holidays and 国民の休日 between two holidays, from the ``jpholiday`` package), or
one of the year-end and new-year days 29 December to 3 January, which the Act on Holidays of
Administrative Organs (行政機関の休日に関する法律, art. 1) closes. A due date "N business days
after" a day counts the days that follow it, as a service standard (標準処理期間) is read.
"""

from __future__ import annotations

import datetime as dt

import jpholiday

ONE_DAY = dt.timedelta(days=1)
MAX_DAYS = 3660  # ten years of business days: more is a mistake, not a service standard


def is_business_day(day: dt.date) -> bool:
    return not (day.weekday() >= 5 or _year_end(day) or jpholiday.is_holiday(day))


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th business day after ``start`` (``start`` itself not counted); with 0, the
    first business day from ``start`` on (itself, when it is one)."""
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_DAYS}, not {days}")
    day = start
    if days == 0:
        while not is_business_day(day):
            day += ONE_DAY
        return day
    while days:
        day += ONE_DAY
        days -= is_business_day(day)
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """How many business days follow ``start`` up to and including ``end`` (0 when ``end`` is
    not after ``start``): the business days a case took from ``start`` to ``end``."""
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        count += is_business_day(day)
    return count


def _year_end(day: dt.date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
