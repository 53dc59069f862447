"""``/me``: the drafts and submissions this browser may open.

That is what this browser made (its session remembers the ids) and, once an email address is
proven by a one-time link, everything made with that address on any device. The page costs the
same few queries however many items it lists: drafts, submissions, then their public bodies,
procedures and versions, each in one query.

The lists cross tenants on purpose (a person's own items at every body); [P3] gives them a
row-level security policy of their own, keyed by the person rather than the tenant.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import in_japan
from madoguchi.core.crypto import DecryptionError
from madoguchi.core.dependencies import Session
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.sessions import remembered, signed_in_email
from madoguchi.core.settings import Settings
from madoguchi.core.templating import render
from madoguchi.core.tenancy import enter_person
from madoguchi.core.wareki import format_date
from madoguchi.identity.sessions import visitor
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import LocalText
from madoguchi.submissions.drafts import Draft, open_content
from madoguchi.submissions.models import Submission, SubmissionStatus
from madoguchi.tenants import service as tenants

router = APIRouter(include_in_schema=False)

MOST_SHOWN = 100  # of each kind, newest first
STATUS_NAMES = {SubmissionStatus.RECEIVED.value: N_("Received")}

VersionKey = tuple[uuid.UUID, uuid.UUID, int]


@dataclass(frozen=True)
class DraftItem:
    title: LocalText | None
    tenant: tenants.Tenant
    href: str  # the draft's address, which leads on to the page to continue from
    kept_until: str


@dataclass(frozen=True)
class SubmissionItem:
    title: LocalText | None
    tenant: tenants.Tenant
    href: str  # the receipt
    reference: str
    submitted_on: str
    status: str


@router.get("/me", response_class=HTMLResponse)
async def my_items(request: Request, session: Session) -> HTMLResponse:
    owner = _Owner(signed_in_email(request), visitor(request).person_id)
    draft_ids = _ids(remembered(request, "drafts"))
    submission_ids = _ids(remembered(request, "submissions"))
    await enter_person(
        session, owner.person_id, email=owner.email, remembered=[*draft_ids, *submission_ids]
    )
    now = dt.datetime.now(dt.UTC)
    drafts = await _drafts(session, draft_ids, owner, now)
    submissions = await _submissions(session, submission_ids, owner)
    secret = cast(Settings, request.app.state.settings).resolved_secret_key()
    versions = _versions(drafts, secret)
    drafts = [draft for draft in drafts if draft.id in versions]
    keys = [*versions.values(), *(_answered(s) for s in submissions)]
    lookup = await _Lookup.load(session, [*drafts, *submissions], keys)
    html = render(
        "my/index.html",
        request=request,
        email=owner.email,
        drafts=[lookup.draft_item(d, versions[d.id]) for d in drafts],
        submissions=[lookup.submission_item(s) for s in submissions],
    )
    return HTMLResponse(html)


def _ids(values: Iterable[str]) -> list[uuid.UUID]:
    """The ids the session remembers (only ``sessions.remember`` writes them: it is signed)."""
    return [uuid.UUID(value) for value in values]


@dataclass(frozen=True)
class _Owner:
    """Who is asking, besides this browser: the email a link proved, the person signed in."""

    email: str | None
    person_id: uuid.UUID | None


def _mine(
    model: type[Draft] | type[Submission], ids: list[uuid.UUID], owner: _Owner
) -> ColumnElement[bool]:
    """Made in this browser, by the person signed in, or with the email address it proved."""
    conditions: list[ColumnElement[bool]] = [model.id.in_(ids)] if ids else []
    if owner.email is not None:
        conditions.append(model.email == owner.email)
    if owner.person_id is not None:
        conditions.append(model.person_id == owner.person_id)
    return or_(*conditions) if conditions else false()


async def _drafts(
    session: AsyncSession, ids: list[uuid.UUID], owner: _Owner, now: dt.datetime
) -> Sequence[Draft]:
    """Drafts not yet sent and not expired (a sent one is listed as its submission)."""
    rows = await session.scalars(
        select(Draft)
        .where(_mine(Draft, ids, owner))
        .where(Draft.expires_at > now, Draft.submission_id.is_(None))
        .order_by(Draft.updated_at.desc())
        .limit(MOST_SHOWN)
    )
    return rows.all()


async def _submissions(
    session: AsyncSession, ids: list[uuid.UUID], owner: _Owner
) -> Sequence[Submission]:
    rows = await session.scalars(
        select(Submission)
        .where(_mine(Submission, ids, owner))
        .order_by(Submission.submitted_at.desc())
        .limit(MOST_SHOWN)
    )
    return rows.all()


def _versions(drafts: Sequence[Draft], secret: str) -> dict[uuid.UUID, VersionKey]:
    """The version each draft answers; a draft sealed with a key no longer in use cannot be
    continued, so it is left out."""
    found = {}
    for draft in drafts:
        try:
            content = open_content(draft, secret)
        except DecryptionError:
            continue
        found[draft.id] = (content.version_tenant_id, content.version_procedure_id, content.version)
    return found


def _answered(submission: Submission) -> VersionKey:
    return (submission.version_tenant_id, submission.version_procedure_id, submission.version)


@dataclass(frozen=True)
class _Lookup:
    """The public bodies, procedures and version titles of a list of items, one query each."""

    tenants: dict[uuid.UUID, tenants.Tenant]
    slugs: dict[tuple[uuid.UUID, uuid.UUID], str]
    titles: dict[VersionKey, LocalText]

    @classmethod
    async def load(
        cls, session: AsyncSession, items: Sequence[Draft | Submission], keys: list[VersionKey]
    ) -> _Lookup:
        if not items:
            return cls({}, {}, {})
        return cls(
            await _tenants_by_id(session, {item.tenant_id for item in items}),
            await _slugs(session, {(item.tenant_id, item.procedure_id) for item in items}),
            await _titles(session, set(keys)),
        )

    def draft_item(self, draft: Draft, version: VersionKey) -> DraftItem:
        tenant = self.tenants[draft.tenant_id]
        slug = self.slugs[(draft.tenant_id, draft.procedure_id)]
        return DraftItem(
            title=self.titles.get(version),
            tenant=tenant,
            href=f"/bodies/{tenant.code}/procedures/{slug}/drafts/{draft.id}",
            kept_until=_day_in_japan(draft.expires_at),
        )

    def submission_item(self, submission: Submission) -> SubmissionItem:
        tenant = self.tenants[submission.tenant_id]
        return SubmissionItem(
            title=self.titles.get(_answered(submission)),
            tenant=tenant,
            href=f"/bodies/{tenant.code}/submissions/{submission.id}",
            reference=submission.reference,
            submitted_on=_day_in_japan(submission.submitted_at),
            status=_(STATUS_NAMES.get(submission.status, submission.status)),
        )


async def _tenants_by_id(
    session: AsyncSession, ids: set[uuid.UUID]
) -> dict[uuid.UUID, tenants.Tenant]:
    rows = await session.scalars(select(tenants.Tenant).where(tenants.Tenant.id.in_(ids)))
    return {tenant.id: tenant for tenant in rows}


async def _slugs(
    session: AsyncSession, keys: set[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], str]:
    model = procedures.Procedure
    rows = await session.execute(
        select(model.tenant_id, model.id, model.slug).where(
            model.id.in_({procedure_id for _tenant_id, procedure_id in keys})
        )
    )
    return {(row.tenant_id, row.id): row.slug for row in rows if (row.tenant_id, row.id) in keys}


async def _titles(session: AsyncSession, keys: set[VersionKey]) -> dict[VersionKey, LocalText]:
    """Each version's title, as the applicant saw it (for an adopted template, the template's)."""
    model = procedures.ProcedureVersion
    rows = await session.execute(
        select(model.tenant_id, model.procedure_id, model.version, model.definition).where(
            model.procedure_id.in_({key[1] for key in keys}),
            model.version.in_({key[2] for key in keys}),
        )
    )
    titles = {}
    for row in rows:
        key = (row.tenant_id, row.procedure_id, row.version)
        if key in keys:
            titles[key] = LocalText.model_validate(row.definition["title"])
    return titles


def _day_in_japan(moment: dt.datetime) -> str:
    return format_date(in_japan(moment).date(), current_language())
