"""Dates as people in Japan write them: Gregorian or Japanese era (和暦), in any width.

``parse_date`` reads ``2024-04-01``, ``2024/4/1``, ``2024年4月1日``, ``令和6年4月1日``,
``令和元年5月1日``, ``R6.4.1``, ``R06/04/01`` and ``㋿6年4月1日``, with full-width digits and
letters. An era date must lie inside its era: 平成31年5月1日 does not exist, because 令和 began
that day.

Meiji starts on 1868-01-25, the Gregorian day of 慶応4年1月1日, to which the era was backdated.
Japan kept the lunisolar calendar until 明治6年1月1日 (1873-01-01); like most software, this
module treats era dates before then as Gregorian, so 明治5年 dates are a computational
convention, not history.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import Language
from madoguchi.core.text import fold_width


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date
    end: dt.date | None  # the last day; None for the current era

    def contains(self, date: dt.date) -> bool:
        return self.start <= date and (self.end is None or date <= self.end)


def _eras(*starts: tuple[str, str, dt.date]) -> tuple[Era, ...]:
    ends = [following - dt.timedelta(days=1) for _, _, following in starts[1:]]
    return tuple(
        Era(name, letter, start, end)
        for (name, letter, start), end in zip(starts, [*ends, None], strict=True)
    )


ERAS = _eras(
    ("明治", "M", dt.date(1868, 1, 25)),
    ("大正", "T", dt.date(1912, 7, 30)),
    ("昭和", "S", dt.date(1926, 12, 25)),
    ("平成", "H", dt.date(1989, 1, 8)),
    ("令和", "R", dt.date(2019, 5, 1)),
)
_BY_TOKEN = {token: era for era in ERAS for token in (era.name, era.letter)}

# Month and day, after the year: 年M月D日 (日 optional) or one separator used twice.
_MONTH_DAY = (
    r"(?:年(?P<m1>[0-9]{1,2})月(?P<d1>[0-9]{1,2})日?"
    r"|(?P<sep>[-/.])(?P<m2>[0-9]{1,2})(?P=sep)(?P<d2>[0-9]{1,2}))"
)
_GREGORIAN = re.compile(rf"(?P<year>[0-9]{{4}}){_MONTH_DAY}")
_ERA = re.compile(
    rf"(?P<era>明治|大正|昭和|平成|令和|[MTSHR])(?P<year>[0-9]{{1,2}}|元){_MONTH_DAY}"
)
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def parse_date(text: str, *, field: str = "date") -> dt.date:
    """The date ``text`` names, or InvalidInput (for ``field``) saying why it is not a date."""
    compact = "".join(fold_width(text).upper().split())
    if match := _GREGORIAN.fullmatch(compact):
        return _calendar_date(text, int(match["year"]), match, field)
    if match := _ERA.fullmatch(compact):
        return _era_date(text, _BY_TOKEN[match["era"]], match, field)
    raise InvalidInput(
        "{value} is not a date: enter it like 2024-04-01 or R6.4.1 (Reiwa 6).",
        field=field,
        value=text,
    )


def _era_date(text: str, era: Era, match: re.Match[str], field: str) -> dt.date:
    year_of_era = 1 if match["year"] == "元" else int(match["year"])
    if year_of_era == 0:
        raise InvalidInput(
            "{value} is not a date: the first year of an era is 1 (元年), not 0.",
            field=field,
            value=text,
        )
    date = _calendar_date(text, era.start.year + year_of_era - 1, match, field)
    if date < era.start:
        raise InvalidInput(
            "{value} is not a date: {era} began on {start}.",
            field=field,
            value=text,
            era=era.name,
            start=era.start.isoformat(),
        )
    if era.end is not None and date > era.end:
        following = ERAS[ERAS.index(era) + 1]
        raise InvalidInput(
            "{value} is not a date: {era} ended on {end}, and {next} began the next day.",
            field=field,
            value=text,
            era=era.name,
            end=era.end.isoformat(),
            next=following.name,
        )
    return date


def _calendar_date(text: str, year: int, match: re.Match[str], field: str) -> dt.date:
    month = int(match["m1"] or match["m2"])
    day = int(match["d1"] or match["d2"])
    if year < 1:
        raise InvalidInput(
            "{value} is not a date: the year must be 1 or later.", field=field, value=text
        )
    if not 1 <= month <= 12:
        raise InvalidInput(
            "{value} is not a date: the month must be between 1 and 12.", field=field, value=text
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise InvalidInput(
            "{value} is not a date: the day must be between 1 and {days}.",
            field=field,
            value=text,
            days=days,
        )
    return dt.date(year, month, day)


def era_of(date: dt.date) -> Era | None:
    """The era a date falls in; None before Meiji."""
    return next((era for era in ERAS if era.contains(date)), None)


def _era_year(date: dt.date) -> str:
    era = era_of(date)
    if era is None:
        raise ValueError(f"{date.isoformat()} is before the first era (明治, {ERAS[0].start})")
    year = date.year - era.start.year + 1
    return f"{era.name}{'元' if year == 1 else year}年"


def format_wareki(date: dt.date) -> str:
    """``令和6年4月1日``; ``令和元年5月1日`` in an era's first year. ValueError before Meiji."""
    return f"{_era_year(date)}{date.month}月{date.day}日"


def format_date(date: dt.date, language: Language) -> str:
    """``2024年4月1日 (令和6年)`` in Japanese, ``1 April 2024`` in English."""
    if language == "en":
        return f"{date.day} {_MONTHS_EN[date.month - 1]} {date.year}"
    gregorian = f"{date.year}年{date.month}月{date.day}日"
    return f"{gregorian} ({_era_year(date)})" if era_of(date) else gregorian
