"""Time as people in Japan read it, from moments stored in UTC.

SQLite gives stored moments back without their zone (they are UTC); PostgreSQL gives them back
aware. ``as_utc`` makes either aware, so the rest of the code never has to ask.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from madoguchi.core.i18n import Language
from madoguchi.core.wareki import format_date

JAPAN = ZoneInfo("Asia/Tokyo")


def today_in_japan() -> dt.date:
    """Today in Japan, whatever the server's time zone."""
    return dt.datetime.now(JAPAN).date()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored moment, aware: SQLite's naive UTC gets its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def in_japan(moment: dt.datetime) -> dt.datetime:
    return as_utc(moment).astimezone(JAPAN)


def format_moment(moment: dt.datetime, language: Language) -> str:
    """``2026年11月28日 (令和8年) 13:05``: the date with its era, and the time, in Japan."""
    local = in_japan(moment)
    return f"{format_date(local.date(), language)} {local:%H:%M}"
