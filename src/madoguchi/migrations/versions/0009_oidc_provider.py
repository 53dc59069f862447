"""madoguchi as an OpenID provider: clients, codes, consents ([P3] item 9)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 07:10:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, *, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def _foreign_keys(table: str, *, client: bool = True, person: bool = True) -> list[sa.Constraint]:
    keys: list[sa.Constraint] = []
    if client:
        keys.append(
            sa.ForeignKeyConstraint(
                ["client_id"],
                ["oidc_clients.client_id"],
                name=op.f(f"fk_{table}_client_id_oidc_clients"),
            )
        )
    if person:
        keys.append(
            sa.ForeignKeyConstraint(
                ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people")
            )
        )
    return keys


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("sector_identifier", sa.String(length=255), nullable=False),
        sa.Column("allowed_scopes", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _moment("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_oidc_clients")),
    )
    op.create_table(
        "oidc_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("nonce", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("acr", sa.String(length=100), nullable=False),
        _moment("auth_time"),
        _moment("created_at"),
        _moment("expires_at"),
        _moment("used_at", nullable=True),
        *_foreign_keys("oidc_authorization_codes"),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oidc_authorization_codes")),
    )
    _index("oidc_authorization_codes", "client_id")
    _index("oidc_authorization_codes", "person_id")
    op.create_table(
        "oidc_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        _moment("created_at"),
        _moment("expires_at"),
        _moment("revoked_at", nullable=True),
        *_foreign_keys("oidc_access_tokens"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_access_tokens")),
    )
    for column in ("client_id", "person_id", "code_hash"):
        _index("oidc_access_tokens", column)
    op.create_table(
        "oidc_consents",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _moment("granted_at"),
        *_foreign_keys("oidc_consents"),
        sa.PrimaryKeyConstraint("person_id", "client_id", name=op.f("pk_oidc_consents")),
    )
    _index("oidc_consents", "client_id")
    op.create_table(
        "oidc_used_assertions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        _moment("expires_at"),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_oidc_used_assertions")),
    )
    _index("oidc_used_assertions", "expires_at")
    op.create_table(
        "oidc_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        _moment("created_at"),
        _moment("activated_at", nullable=True),
        _moment("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_oidc_signing_keys")),
    )


def downgrade() -> None:
    for table in (
        "oidc_signing_keys",
        "oidc_used_assertions",
        "oidc_consents",
        "oidc_access_tokens",
        "oidc_authorization_codes",
        "oidc_clients",
    ):
        op.drop_table(table)
