"""The schema comes from the Alembic migrations, and they agree with the models."""

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from madoguchi import migrations
from madoguchi.core.db import Base
from madoguchi.migrations import MIGRATION_LOCK
from tests.support.databases import add_stray_table, asyncpg_dsn
from tests.support.server import madoguchi_command

LOCK_WAIT_SECONDS = 6  # longer than an upgrade takes on this machine


def test_models_and_migrations_agree(database_url: str) -> None:
    assert migrations.schema_drift(database_url) == []


def test_there_is_one_head_and_the_database_is_at_it(database_url: str) -> None:
    assert migrations.database_revision(database_url) == migrations.head_revision()


def test_upgrade_from_empty_then_again_is_a_no_op(empty_database_url: str) -> None:
    assert migrations.database_revision(empty_database_url) is None
    migrations.upgrade(empty_database_url)
    migrations.upgrade(empty_database_url)
    assert migrations.database_revision(empty_database_url) == migrations.head_revision()


def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    migrations.upgrade(empty_database_url)
    command.downgrade(migrations.alembic_config(empty_database_url), "base")
    assert migrations.database_revision(empty_database_url) is None
    migrations.upgrade(empty_database_url)
    assert migrations.schema_drift(empty_database_url) == []


def test_every_table_is_named_by_convention() -> None:
    for table in Base.metadata.sorted_tables:
        assert table.primary_key.name == f"pk_{table.name}"


def test_revision_files_are_numbered_in_order() -> None:
    versions = sorted(p.name for p in (Path(migrations.__file__).parent / "versions").glob("*.py"))
    assert versions and versions[0].startswith("0001_")


def test_a_difference_is_reported(database_url: str) -> None:
    """The comparison can fail: a table the models do not know shows up as drift."""
    add_stray_table(database_url)
    drift = migrations.schema_drift(database_url)
    assert [d[0] for d in drift] == ["remove_table"]


def test_hosts_starting_together_migrate_once(empty_database_url: str, tmp_path: Path) -> None:
    """`madoguchi db upgrade` on several hosts at once: they queue on one lock, none fails.

    The test holds the lock itself first, so it can see both upgrades wait for it.
    """
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite is embedded in one host; serve migrates before starting workers")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")},
        "MADOGUCHI_DATABASE_URL": empty_database_url,
        "MADOGUCHI_DATA_DIR": str(tmp_path),
    }
    command = [*madoguchi_command(), "db", "upgrade"]

    async def upgrade_twice_while_locked() -> list[subprocess.Popen[str]]:
        holder = await asyncpg.connect(asyncpg_dsn(empty_database_url))
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        upgrades = [
            subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)  # noqa: ASYNC220  (starting, not waiting)
            for _ in range(2)
        ]
        await asyncio.sleep(LOCK_WAIT_SECONDS)
        assert [process.poll() for process in upgrades] == [None, None], "did not wait"
        await holder.close()  # releases the lock
        return upgrades

    upgrades = asyncio.run(upgrade_twice_while_locked())
    errors = [process.communicate(timeout=120)[1] for process in upgrades]
    assert [process.returncode for process in upgrades] == [0, 0], errors
    assert migrations.schema_drift(empty_database_url) == []
