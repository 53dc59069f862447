"""What the staff pages of submissions share: times, titles, channel names, and the queries that
no service offers yet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import NotFound
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.wareki import format_date
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition, LocalText
from madoguchi.submissions.exports import in_japan
from madoguchi.submissions.models import Submission, SubmissionEvent
from madoguchi.tenants import service as tenants

CHANNELS = {"web": N_("Online form"), "api": N_("API")}


def when(moment: dt.datetime) -> str:
    """A stored moment as people in Japan read it: the date (with its era) and the time."""
    local = in_japan(moment)
    return f"{format_date(local.date(), current_language())} {local:%H:%M}"


def channel_label(channel: str) -> str:
    return _(CHANNELS[channel]) if channel in CHANNELS else channel


async def procedure_title(session: AsyncSession, procedure: procedures.Procedure) -> LocalText:
    """What applicants see now; for a procedure never published, its latest draft's title."""
    try:
        return (await procedures.effective_definition(session, procedure)).title
    except NotFound:
        versions = await procedures.list_versions(session, procedure)
        return Definition.model_validate(versions[-1].definition).title


# Two queries these pages need that no service offers yet. They belong in procedures.service
# (every procedure of a body, drafts included: list_offered leaves drafts out) and in
# submissions.service (a submission's audit record); both are scoped to the tenant like every
# query on tenant-owned data.


async def procedures_of(
    session: AsyncSession, tenant: tenants.Tenant
) -> list[procedures.Procedure]:
    found = await session.scalars(
        select(procedures.Procedure)
        .where(procedures.Procedure.tenant_id == tenant.id)
        .order_by(procedures.Procedure.slug)
    )
    return list(found)


async def events_of(session: AsyncSession, submission: Submission) -> list[SubmissionEvent]:
    found = await session.scalars(
        select(SubmissionEvent)
        .where(
            SubmissionEvent.tenant_id == submission.tenant_id,
            SubmissionEvent.submission_id == submission.id,
        )
        .order_by(SubmissionEvent.at, SubmissionEvent.id)
    )
    return list(found)
