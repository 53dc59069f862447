"""The audit log: chains that verify, and every kind of tampering found by ``verify``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from madoguchi.core.db import create_engine, create_session_factory, is_sqlite, unit_of_work
from madoguchi.core.settings import get_settings
from madoguchi.identity import audit
from madoguchi.identity.cli import app as audit_app
from madoguchi.identity.models import AuditEntry
from tests.conftest import TEST_SECRET

SAPPORO = uuid.UUID("00000000-0000-4000-8000-000000011002")
SOUMU = uuid.UUID("00000000-0000-4000-8000-000000000001")


async def _fill(session: AsyncSession) -> None:
    """Three entries for Sapporo, two for Soumu, one platform-wide."""
    for number in range(3):
        await audit.append(
            session,
            actor="staff:tanaka@example.jp",
            action="submission.read",
            tenant_id=SAPPORO,
            purpose="転居届の審査",
            subject=f"submission:{number}",
            details={"fields": ["name", "address"], "n": number},
        )
    for _ in range(2):
        await audit.append(session, actor="staff:sato", action="role.change", tenant_id=SOUMU)
    await audit.append(session, actor="resident:a@example.jp", action="sign_in")


async def _problems(session: AsyncSession) -> list[tuple[str | None, int | None, str]]:
    result = await audit.verify(session, TEST_SECRET)
    return [(p.chain, p.seq, p.message) for p in result.problems]


async def test_entries_on_several_chains_verify(session: AsyncSession) -> None:
    await _fill(session)
    await audit.checkpoint(session, TEST_SECRET)
    await audit.append(session, actor="staff:sato", action="decrypt", tenant_id=SAPPORO)
    result = await audit.verify(session, TEST_SECRET)
    assert result.problems == []
    assert (result.entries, result.chains) == (7, 3)
    seqs = (
        await session.execute(
            select(AuditEntry.seq).where(AuditEntry.chain == str(SAPPORO)).order_by(AuditEntry.seq)
        )
    ).scalars()
    assert list(seqs) == [1, 2, 3, 4]


async def test_an_edited_field_is_found(session: AsyncSession) -> None:
    await _fill(session)
    await session.execute(
        text("UPDATE audit_entries SET purpose = '私用' WHERE chain = :c AND seq = 2"),
        {"c": str(SAPPORO)},
    )
    problems = await _problems(session)
    assert [(c, s) for c, s, _ in problems] == [(str(SAPPORO), 2)]
    assert "hash" in problems[0][2]


async def test_a_deleted_middle_entry_is_found(session: AsyncSession) -> None:
    await _fill(session)
    await session.execute(
        text("DELETE FROM audit_entries WHERE chain = :c AND seq = 2"), {"c": str(SAPPORO)}
    )
    problems = await _problems(session)
    assert {(c, s) for c, s, _ in problems} == {(str(SAPPORO), 3)}
    assert any("missing" in message for _, _, message in problems)


async def test_a_deleted_last_entry_is_found_by_the_checkpoint(session: AsyncSession) -> None:
    """The head row is put back to match, so only the signed checkpoint still knows."""
    await _fill(session)
    await audit.checkpoint(session, TEST_SECRET)
    await session.execute(
        text("DELETE FROM audit_entries WHERE chain = :c AND seq = 3"), {"c": str(SAPPORO)}
    )
    await session.execute(
        text(
            "UPDATE audit_chains SET last_seq = 2, last_hash = "
            "(SELECT hash FROM audit_entries WHERE chain = :c AND seq = 2) WHERE chain = :c"
        ),
        {"c": str(SAPPORO)},
    )
    problems = await _problems(session)
    assert len(problems) == 1
    assert problems[0][0] == str(SAPPORO) and "checkpoint" in problems[0][2]


async def test_a_deleted_last_entry_disagrees_with_the_head(session: AsyncSession) -> None:
    await _fill(session)
    await session.execute(text("DELETE FROM audit_entries WHERE chain = 'platform'"))
    assert await _problems(session) == [("platform", None, "the chain's entries are all gone")]


async def test_swapped_entries_are_found(session: AsyncSession) -> None:
    await _fill(session)
    for old, new in ((2, 99), (3, 2), (99, 3)):
        await session.execute(
            text("UPDATE audit_entries SET seq = :new WHERE chain = :c AND seq = :old"),
            {"c": str(SAPPORO), "old": old, "new": new},
        )
    problems = await _problems(session)
    # both moved entries, and the head, which names what was the last entry's hash
    assert {(c, s) for c, s, _ in problems} == {(str(SAPPORO), s) for s in (2, 3, None)}


async def test_a_chain_rewritten_consistently_is_found_by_the_checkpoint(
    session: AsyncSession,
) -> None:
    """Whoever edits an entry and recomputes every hash after it still cannot sign."""
    await _fill(session)
    await audit.checkpoint(session, TEST_SECRET)
    await _rewrite_soumu_chain(session, actor="staff:nobody")
    problems = await _problems(session)
    assert problems == [
        (str(SOUMU), 2, "differs from the entry the latest checkpoint recorded"),
    ]


async def _rewrite_soumu_chain(session: AsyncSession, *, actor: str) -> None:
    rows = await session.execute(
        select(AuditEntry).where(AuditEntry.chain == str(SOUMU)).order_by(AuditEntry.seq)
    )
    previous = audit.GENESIS_HASH
    for entry in rows.scalars():
        entry.actor, entry.prev_hash = actor, previous
        fields = {column: getattr(entry, column) for column in audit.HASHED_COLUMNS}
        entry.hash = previous = audit.entry_hash(fields)
    await session.execute(
        text("UPDATE audit_chains SET last_hash = :h WHERE chain = :c"),
        {"h": previous, "c": str(SOUMU)},
    )
    await session.flush()


async def test_a_forged_checkpoint_is_found(session: AsyncSession) -> None:
    await _fill(session)
    signed = await audit.checkpoint(session, TEST_SECRET)
    forged = await audit.checkpoint(session, "a secret that is not the application's")
    problems = await _problems(session)
    assert problems == [(None, None, f"checkpoint {forged.id} has a wrong signature")]
    await session.execute(
        text("UPDATE audit_checkpoints SET signature = :s WHERE id = :i"),
        {"s": "0" * 64, "i": signed.id},
    )
    assert len(await _problems(session)) == 2


async def test_concurrent_appends_to_two_chains_stay_gapless(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("row locks and concurrent writers are PostgreSQL's")
    engine = create_engine(database_url, pool_size=10, max_overflow=10)
    factory = create_session_factory(engine)

    async def one(tenant: uuid.UUID, number: int) -> None:
        async with unit_of_work(factory) as unit:
            await audit.append(unit, actor=f"staff:{number}", action="read", tenant_id=tenant)

    try:
        await asyncio.gather(*(one(t, n) for n in range(40) for t in (SAPPORO, SOUMU)))
        async with unit_of_work(factory) as unit:
            result = await audit.verify(unit, TEST_SECRET)
    finally:
        await engine.dispose()
    assert result.problems == []
    assert (result.entries, result.chains) == (80, 2)


runner = CliRunner()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MADOGUCHI_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_the_commands_checkpoint_verify_and_report_tampering(configured: str) -> None:
    asyncio.run(_in_unit_of_work(configured, _fill))
    signed = runner.invoke(audit_app, ["checkpoint"])
    assert signed.exit_code == 0, signed.output
    assert "3 chains" in signed.stdout
    intact = runner.invoke(audit_app, ["verify"])
    assert intact.exit_code == 0, intact.output
    assert "6 entries in 3 chains verified" in intact.stdout

    async def rewrite(session: AsyncSession) -> None:
        await _rewrite_soumu_chain(session, actor="staff:nobody")

    asyncio.run(_in_unit_of_work(configured, rewrite))
    broken = runner.invoke(audit_app, ["verify"])
    assert broken.exit_code == 1
    assert f"{SOUMU} #2: differs from the entry the latest checkpoint recorded" in broken.stderr


async def _in_unit_of_work(
    database_url: str, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as unit:
            await work(unit)
    finally:
        await engine.dispose()
