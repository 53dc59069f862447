"""the platform PKI, e-seals of public bodies, sealed documents ([P4] items 1 and 3)

``pki_authorities`` and ``pki_certificates`` are national and public (certificates are what
anyone checks a signature against). ``e_seals`` and ``sealed_documents`` are tenant-owned, with
row-level security on PostgreSQL; ``sealed_documents`` may be read by anyone (its public
reference is printed on the document; it holds no content, only where the sealed file is).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 10:40:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from madoguchi.migrations import row_security

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED = ("e_seals", "sealed_documents")


def _moment(name: str, *, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created() -> sa.Column[dt.datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _tenant_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _index(table: str, column: str, *, unique: bool = False) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=unique)


def upgrade() -> None:
    op.create_table(
        "pki_authorities",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("key_handle", sa.Text(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pki_authorities")),
    )
    op.create_table(
        "pki_certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("issuer", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        _moment("not_before"),
        _moment("not_after"),
        _moment("revoked_at", nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["issuer"],
            ["pki_authorities.name"],
            name=op.f("fk_pki_certificates_issuer_pki_authorities"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_pki_certificates")),
    )
    _index("pki_certificates", "issuer")
    op.create_index(
        "ix_pki_certificates_revoked",
        "pki_certificates",
        ["issuer", "revoked_at"],
        postgresql_where=sa.text("revoked_at IS NOT NULL"),
        sqlite_where=sa.text("revoked_at IS NOT NULL"),
    )
    op.create_table(
        "e_seals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("key_handle", sa.Text(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["serial"],
            ["pki_certificates.serial"],
            name=op.f("fk_e_seals_serial_pki_certificates"),
        ),
        _tenant_key("e_seals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_e_seals")),
        sa.UniqueConstraint("serial", name=op.f("uq_e_seals_serial")),
    )
    _index("e_seals", "tenant_id")
    op.create_table(
        "sealed_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        _moment("sealed_at"),
        _tenant_key("sealed_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_documents")),
        sa.UniqueConstraint("reference", name=op.f("uq_sealed_documents_reference")),
    )
    _index("sealed_documents", "tenant_id")
    _index("sealed_documents", "subject_id")
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for table in TENANT_OWNED:
            row_security.secure_tenant_table(connection, table)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for table in TENANT_OWNED:
            row_security.unsecure_tenant_table(connection, table)
    op.drop_table("sealed_documents")
    op.drop_table("e_seals")
    op.drop_table("pki_certificates")
    op.drop_table("pki_authorities")
