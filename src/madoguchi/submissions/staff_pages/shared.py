"""What the staff pages of submissions share: times, titles, channel names, and the queries that
no service offers yet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import format_moment
from madoguchi.core.errors import NotFound
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition, LocalText

CHANNELS = {"web": N_("Online form"), "api": N_("API")}


def when(moment: dt.datetime) -> str:
    """A stored moment as people in Japan read it: the date (with its era) and the time."""
    return format_moment(moment, current_language())


def channel_label(channel: str) -> str:
    return _(CHANNELS[channel]) if channel in CHANNELS else channel


async def procedure_title(session: AsyncSession, procedure: procedures.Procedure) -> LocalText:
    """What applicants see now; for a procedure never published, its latest draft's title."""
    try:
        return (await procedures.effective_definition(session, procedure)).title
    except NotFound:
        versions = await procedures.list_versions(session, procedure)
        return Definition.model_validate(versions[-1].definition).title
