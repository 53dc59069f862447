"""Staff reads and exports of personal data, and sign-ins, are written to the audit log."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.identity.models import AuditEntry
from tests.submissions.export_support import committed, submit_opinion

OPINIONS = "/staff/bodies/soumu/procedures/metaverse-consultation/submissions"


async def test_a_read_and_an_export_are_in_the_tenant_s_chain(
    staff: TestClient, staff_person: uuid.UUID, database_url: str, settings: Settings
) -> None:
    async with committed(database_url) as session:
        submission = await submit_opinion(session, "山田 花子")
        submission_id, tenant_id = submission.id, submission.tenant_id

    assert staff.get(f"/staff/bodies/soumu/submissions/{submission_id}").status_code == 200
    assert staff.get(OPINIONS + ".csv", params={"q": "山田"}).status_code == 200

    async with committed(database_url) as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.chain == str(tenant_id)))
        ).all()
        assert [(e.action, e.subject) for e in entries] == [
            ("submission.read", f"submission:{submission_id}"),
            ("submissions.exported", f"procedure:{submission.procedure_id}"),
        ]
        assert {e.actor for e in entries} == {f"person:{staff_person}"}
        assert entries[1].details["format"] == "csv" and "q=" in entries[1].details["filters"]
        verified = await audit.verify(session, settings.resolved_secret_key())
        assert verified.problems == []


async def test_a_refused_read_writes_nothing(client: TestClient, database_url: str) -> None:
    async with committed(database_url) as session:
        submission = await submit_opinion(session, "山田 花子")
    response = client.get(
        f"/staff/bodies/soumu/submissions/{submission.id}", follow_redirects=False
    )
    assert response.status_code == 303  # to sign in
    async with committed(database_url) as session:
        assert (await session.scalars(select(AuditEntry))).all() == []
