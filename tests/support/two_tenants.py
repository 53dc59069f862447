"""Two municipalities with data of every tenant-owned kind, for the isolation tests.

Sapporo (A) and Hakodate (B) each offer the national change-of-address template, have a draft
procedure of their own, a webhook, a submission (which queues a delivery), an applicant's
draft and audit entries; the platform chain has an entry too. Everything is written through
the services, on the owner's connection, and committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.procedures import examples
from madoguchi.procedures import service as procedures
from madoguchi.procedures.validation import check_answers
from madoguchi.submissions import drafts, service, webhooks
from madoguchi.submissions.models import Channel
from madoguchi.tenants import service as tenants
from tests.conftest import TEST_SECRET
from tests.submissions.examples import DAY, MOVING

SAPPORO, HAKODATE = "011002", "012025"
CONSULTATION = Path(examples.__file__).parent / "metaverse-consultation.yaml"


@dataclass(frozen=True)
class TenantData:
    code: str
    tenant_id: uuid.UUID
    procedure_id: uuid.UUID  # its change-of-address (adopted)
    own_procedure_id: uuid.UUID  # a procedure with only a draft version
    submission_id: uuid.UUID
    draft_id: uuid.UUID
    webhook_id: uuid.UUID


@dataclass(frozen=True)
class TwoTenants:
    a: TenantData
    b: TenantData
    person_id: uuid.UUID  # the person who made B's submission and draft


async def fill(database_url: str) -> TwoTenants:
    engine = create_engine(database_url)
    person = uuid.uuid4()
    try:
        factory = create_session_factory(engine)
        async with unit_of_work(factory) as session:
            a = await _tenant_data(session, SAPPORO, None)
            b = await _tenant_data(session, HAKODATE, person)
            await audit.append(session, actor="resident:x@example.jp", action="sign_in")
    finally:
        await engine.dispose()
    return TwoTenants(a, b, person)


async def _tenant_data(session: AsyncSession, code: str, person: uuid.UUID | None) -> TenantData:
    tenant = await tenants.get_tenant(session, code)
    template = await procedures.get_procedure(session, "soumu", "change-of-address")
    procedure = await procedures.adopt_template(session, code, template, {})
    source = CONSULTATION.read_text(encoding="utf-8").replace("owner: soumu", f"owner: '{code}'")
    own = await procedures.save_draft(session, code, source)
    settings = Settings(secret_key=TEST_SECRET, database_url="sqlite+aiosqlite://")
    hook, _secret = await webhooks.create_webhook(
        session,
        tenant.id,
        "http://127.0.0.1:9/hook",  # a closed port: nothing leaves the machine
        settings,
    )
    current = await procedures.current(session, procedure)
    accepted = check_answers(current.definition, MOVING, DAY)
    intake = service.Intake(Channel.API, "ja", "api", email=f"{code}@example.jp")
    submitted = (
        await service.submit(session, procedure, current.version, accepted, intake)
    ).submission
    submitted.person_id = person
    draft = await drafts.create_draft(
        session, procedure, current, settings, dt.datetime.now(dt.UTC)
    )
    draft.person_id = person
    await audit.append(session, actor="staff:x", action="submission.read", tenant_id=tenant.id)
    await session.flush()
    return TenantData(
        code, tenant.id, procedure.id, own.procedure_id, submitted.id, draft.id, hook.id
    )
