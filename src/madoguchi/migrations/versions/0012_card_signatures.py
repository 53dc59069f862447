"""residents' signatures with the My Number card ([P4] item 2)

``card_signature_codes``: a signature the card simulator made, kept under a one-time code for
the relying party (national, like the simulator's other tables; not tenant-owned). The four
``submissions`` columns keep a resident's signature with the submission it signs. The card
simulator's root authority goes (``card_authorities`` keeps only the ID-token key): its cards'
certificates now come from the platform's residents' authority.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The simulator's own root authority is gone: its cards come from the platform PKI.
    with op.batch_alter_table("card_authorities", schema=None) as batch_op:
        batch_op.drop_column("sealed_key")
        batch_op.drop_column("certificate_pem")
    op.create_table(
        "card_signature_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("card_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["virtual_cards.id"],
            name=op.f("fk_card_signature_codes_card_id_virtual_cards"),
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_card_signature_codes")),
    )
    with op.batch_alter_table("card_signature_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_signature_codes_card_id"), ["card_id"], unique=False
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_format", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("signature_serial", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("card_authorities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_pem", sa.Text(), server_default=""))
        batch_op.add_column(sa.Column("sealed_key", sa.Text(), server_default=""))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("signed_at")
        batch_op.drop_column("signature_serial")
        batch_op.drop_column("signature")
        batch_op.drop_column("signature_format")
    with op.batch_alter_table("card_signature_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_signature_codes_card_id"))
    op.drop_table("card_signature_codes")
