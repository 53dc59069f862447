"""My Numbers in submissions: found by keyed hash, revealed only with an audit event (which never
holds the number), sealed again after a rotation. Masked display: tests/staff/test_my_number_page.py
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.errors import InvalidInput
from madoguchi.core.files import FileStore
from madoguchi.core.my_number_keys import (
    KeyRing,
    MyNumberPurpose,
    key_file_path,
    key_id_of,
    key_ring,
    rotate_key_file,
)
from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.identity.models import AuditEntry
from madoguchi.identity.my_number import MyNumberUnreadable, reveal_my_number
from madoguchi.procedures import service as procedures
from madoguchi.submissions.drafts import Draft, DraftContent, open_content, seal_content
from madoguchi.submissions.models import Submission
from madoguchi.submissions.my_number import find_submissions_by_my_number, reencrypt_all
from madoguchi.tenants import service as tenants
from tests.submissions.export_support import (
    MY_NUMBER,
    committed,
    grant_answers,
    grant_procedure,
    submit_grant,
)
from tests.support.my_number_watch import my_numbers_in
from tests.support.my_numbers import new_key_ring

OTHER = "234567890121"


@pytest.fixture
def keys(settings: Settings) -> KeyRing:
    return key_ring(settings)


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore.from_settings(settings)


async def _entries(session: AsyncSession, action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
    return list(await session.scalars(query))


async def _grants(database_url: str, store: FileStore, keys: KeyRing) -> list[Submission]:
    async with committed(database_url) as session:
        await grant_procedure(session)
        first = await submit_grant(session, store, grant_answers(), keys=keys)
        second = await submit_grant(
            session, store, grant_answers("佐藤"), keys=keys, my_number=OTHER
        )
        return [first, second]


async def test_a_submission_is_found_by_its_my_number_and_the_search_is_audited(
    database_url: str, store: FileStore, keys: KeyRing, settings: Settings
) -> None:
    first, _second = await _grants(database_url, store, keys)
    async with committed(database_url) as session:
        found = await find_submissions_by_my_number(
            session,
            first.tenant_id,
            "1234-5678-9018",
            actor="staff:admin",
            purpose=MyNumberPurpose.TAX,
            keys=keys,
        )
        assert [s.id for s in found] == [first.id]
        soumu = await tenants.get_tenant(session, "soumu")
        elsewhere = await find_submissions_by_my_number(
            session, soumu.id, MY_NUMBER, actor="staff:admin", purpose="tax", keys=keys
        )
        assert elsewhere == []  # another body's search sees none of Chiyoda's submissions
    async with committed(database_url) as session:
        entries = await _entries(session, "my_number.lookup")
        assert [(e.tenant_id, e.purpose, e.actor) for e in entries] == [
            (first.tenant_id, "tax", "staff:admin"),
            (soumu.id, "tax", "staff:admin"),
        ]
        assert entries[0].details == {"found": [f"submission:{first.id}"]}
        assert all(my_numbers_in(str(e.details) + str(e.subject)) == 0 for e in entries)
        assert (await audit.verify(session, settings.resolved_secret_key())).problems == []


async def test_a_search_for_an_invalid_number_is_refused_without_repeating_it(
    session: AsyncSession, keys: KeyRing
) -> None:
    tenant = await tenants.get_tenant(session, "131016")
    with pytest.raises(InvalidInput, match="valid 12-digit My Number") as caught:
        await find_submissions_by_my_number(
            session, tenant.id, "123456789012", actor="a", purpose="tax", keys=keys
        )
    assert "123456789012" not in str(caught.value)
    assert await _entries(session, "my_number.lookup") == []


@pytest.mark.parametrize("purpose", list(MyNumberPurpose))
async def test_every_reveal_writes_who_where_why_and_what_never_the_number(
    database_url: str, store: FileStore, keys: KeyRing, purpose: MyNumberPurpose
) -> None:
    first, _second = await _grants(database_url, store, keys)
    async with committed(database_url) as session:
        digits = await reveal_my_number(
            session,
            actor="staff:admin",
            tenant_id=first.tenant_id,
            purpose=purpose,
            sealed=first.answers["my_number"],
            subject=f"submission:{first.id}/question:my_number",
            keys=keys,
            reason=f"case 12 (typed {MY_NUMBER} by mistake)",
        )
        assert digits == MY_NUMBER
    async with committed(database_url) as session:
        (entry,) = await _entries(session, "my_number.reveal")
        assert entry.actor == "staff:admin" and entry.tenant_id == first.tenant_id
        assert entry.purpose == purpose.value
        assert entry.subject == f"submission:{first.id}/question:my_number"
        assert entry.details["key_id"] == keys.active
        assert entry.at is not None
        everything = " ".join(str(v) for v in (entry.details, entry.subject, entry.purpose))
        assert my_numbers_in(everything) == 0 and "9018" in entry.details["reason"]


async def test_a_reveal_that_cannot_decrypt_says_so_and_records_nothing(
    database_url: str, store: FileStore, keys: KeyRing
) -> None:
    first, _second = await _grants(database_url, store, keys)
    async with committed(database_url) as session:
        with pytest.raises(MyNumberUnreadable, match="not in the key file"):
            await reveal_my_number(
                session,
                actor="staff:admin",
                tenant_id=first.tenant_id,
                purpose=MyNumberPurpose.TAX,
                sealed=first.answers["my_number"],
                subject=f"submission:{first.id}",
                keys=new_key_ring(),
            )
        assert await _entries(session, "my_number.reveal") == []


async def test_reencrypt_seals_every_stored_number_under_the_new_key(
    database_url: str, store: FileStore, keys: KeyRing, settings: Settings
) -> None:
    first, second = await _grants(database_url, store, keys)
    async with committed(database_url) as session:
        draft = await _draft_with_a_number(session, settings, keys)
    rotate_key_file(key_file_path(settings))
    rotated = key_ring(settings)
    engine = create_engine(database_url)
    try:
        done = await reencrypt_all(create_session_factory(engine), rotated, settings, batch=1)
        again = await reencrypt_all(create_session_factory(engine), rotated, settings, batch=1)
    finally:
        await engine.dispose()
    assert (done.submissions, done.drafts, done.numbers) == (2, 1, 3)
    assert again.numbers == 0
    async with committed(database_url) as session:
        for stored, number in ((first, MY_NUMBER), (second, OTHER)):
            row = await session.get(Submission, (stored.tenant_id, stored.id))
            assert row is not None
            sealed = row.answers["my_number"]
            assert key_id_of(sealed["encrypted"]) == rotated.active
            assert sealed["lookup"] == stored.answers["my_number"]["lookup"]
            assert row.answers["name"] == stored.answers["name"]  # the rest untouched
            assert await _revealed(session, row, rotated) == number
        kept = await session.get(Draft, (draft.tenant_id, draft.id))
        assert kept is not None
        content = open_content(kept, settings.resolved_secret_key())
        assert key_id_of(content.answers["my_number"]["encrypted"]) == rotated.active
        entry = (await _entries(session, "my_number.reencrypt"))[0]
        assert entry.details["numbers"] == 3 and entry.details["active_key"] == rotated.active


async def _draft_with_a_number(session: AsyncSession, settings: Settings, keys: KeyRing) -> Draft:
    procedure = await procedures.get_procedure(session, "131016", "child-grant")
    draft = Draft(tenant_id=procedure.tenant_id, procedure_id=procedure.id)
    content = DraftContent(procedure.tenant_id, procedure.id, 1, {"my_number": keys.seal(OTHER)})
    now = dt.datetime.now(dt.UTC)
    seal_content(draft, content, settings.resolved_secret_key(), now, settings.draft_days)
    session.add(draft)
    await session.flush()
    return draft


async def _revealed(session: AsyncSession, row: Submission, keys: KeyRing) -> str:
    return await reveal_my_number(
        session,
        actor="test",
        tenant_id=row.tenant_id,
        purpose=MyNumberPurpose.TAX,
        sealed=row.answers["my_number"],
        subject=f"submission:{row.id}",
        keys=keys,
    )


# --- The API ----------------------------------------------------------------------------------


async def test_the_api_never_answers_with_the_number_valid_or_not(
    client: TestClient, database_url: str, keys: KeyRing
) -> None:
    async with committed(database_url) as session:
        procedure = await grant_procedure(session)
    url = f"/api/v1/procedures/{procedure.id}/submissions"
    answers = {key: value for key, value in grant_answers().items() if key != "needs"}
    wrong = client.post(url, json={"answers": {**answers, "my_number": "1234 5678 9012"}})
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["my_number"]
    assert "9012" not in wrong.text and "12345678" not in wrong.text
    right = client.post(url, json={"answers": {**answers, "my_number": MY_NUMBER}})
    assert right.status_code == 201, right.text
    assert my_numbers_in(right.text) == 0 and "encrypted" not in right.text
    followed = client.get(f"/api/v1/submissions/{right.json()['id']}")
    assert my_numbers_in(followed.text) == 0 and "9018" not in followed.text
