"""officials, their roles per tenant, and invitations ([P3] item 5)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 07:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "officials",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_officials_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_officials_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_officials")),
    )
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officials_person_id"), ["person_id"], unique=False)

    op.create_table(
        "official_invitations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        _moment("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_official_invitations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "token_hash", name=op.f("pk_official_invitations")),
    )
    with op.batch_alter_table("official_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_official_invitations_email", ["tenant_id", "email"], unique=False)

    op.create_table(
        "platform_administrators",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        _moment("created_at"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_platform_administrators_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_platform_administrators")),
    )


def downgrade() -> None:
    op.drop_table("platform_administrators")
    with op.batch_alter_table("official_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_official_invitations_email")
    op.drop_table("official_invitations")
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officials_person_id"))
    op.drop_table("officials")
