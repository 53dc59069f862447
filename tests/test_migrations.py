"""The schema comes from the Alembic migrations, and they agree with the models."""

from pathlib import Path

from alembic import command

from madoguchi import migrations
from madoguchi.core.db import Base
from tests.support.databases import add_stray_table


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
