"""the card simulator: its authority, virtual cards, authorization codes ([P3] item 2)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_authorities",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("sealed_token_key", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_card_authorities")),
    )
    op.create_table(
        "virtual_cards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("authentication_certificate_pem", sa.Text(), nullable=False),
        sa.Column("signature_certificate_pem", sa.Text(), nullable=False),
        sa.Column("authentication_key", sa.Text(), nullable=False),
        sa.Column("signature_key", sa.Text(), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("password_failures", sa.Integer(), nullable=False),
        sa.Column("pin_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_virtual_cards")),
        sa.UniqueConstraint("card_number", name=op.f("uq_virtual_cards_card_number")),
        sa.UniqueConstraint("subject", name=op.f("uq_virtual_cards_subject")),
    )
    op.create_table(
        "card_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("card_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("nonce", sa.String(length=200), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("attributes_verified", sa.Boolean(), nullable=False),
        sa.Column("authenticated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["virtual_cards.id"],
            name=op.f("fk_card_authorization_codes_card_id_virtual_cards"),
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_card_authorization_codes")),
    )
    op.create_index(
        op.f("ix_card_authorization_codes_card_id"),
        "card_authorization_codes",
        ["card_id"],
        unique=False,
    )
    op.create_table(
        "card_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_attempts")),
    )
    op.create_index(op.f("ix_card_attempts_key"), "card_attempts", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_card_attempts_key"), table_name="card_attempts")
    op.drop_table("card_attempts")
    op.drop_index(
        op.f("ix_card_authorization_codes_card_id"), table_name="card_authorization_codes"
    )
    op.drop_table("card_authorization_codes")
    op.drop_table("virtual_cards")
    op.drop_table("card_authorities")
