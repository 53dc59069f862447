"""officials' signing keys and internal e-approval ([P4] item 5)

``official_signing_keys``: each official's own signing certificate (by serial) and the handle of
the key the platform holds for them. ``approval_documents`` and ``approval_steps``: documents in
internal e-approval (電子決裁) and the route of each round. All three are tenant-owned, with
row-level security on PostgreSQL.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 15:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from madoguchi.migrations import row_security

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED = ("official_signing_keys", "approval_documents", "approval_steps")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _tenant() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False)


def _tenant_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "official_signing_keys",
        _id(),
        _tenant(),
        sa.Column("official_id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("key_handle", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["serial"],
            ["pki_certificates.serial"],
            name=op.f("fk_official_signing_keys_serial_pki_certificates"),
        ),
        _tenant_key("official_signing_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_signing_keys")),
        sa.UniqueConstraint("serial", name=op.f("uq_official_signing_keys_serial")),
    )
    _index("official_signing_keys", "tenant_id")
    _index("official_signing_keys", "official_id")
    op.create_table(
        "approval_documents",
        _id(),
        _tenant(),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("drafted_by", sa.Uuid(), nullable=False),
        sa.Column("drafter_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sealed_reference", sa.String(length=16), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        _tenant_key("approval_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_documents")),
    )
    _index("approval_documents", "tenant_id")
    _index("approval_documents", "drafted_by")
    op.create_table(
        "approval_steps",
        _id(),
        _tenant(),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("required_role", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decider_name", sa.String(length=200), nullable=True),
        _moment("decided_at", nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("field_name", sa.String(length=64), nullable=True),
        _moment("created_at"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["approval_documents.id"],
            name=op.f("fk_approval_steps_document_id_approval_documents"),
        ),
        _tenant_key("approval_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_steps")),
        sa.UniqueConstraint(
            "document_id",
            "round",
            "position",
            name=op.f("uq_approval_steps_document_id_round_position"),
        ),
    )
    _index("approval_steps", "tenant_id")
    _index("approval_steps", "document_id")
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for table in TENANT_OWNED:
            row_security.secure_tenant_table(connection, table)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for table in TENANT_OWNED:
            row_security.unsecure_tenant_table(connection, table)
    op.drop_table("approval_steps")
    op.drop_table("approval_documents")
    op.drop_table("official_signing_keys")
