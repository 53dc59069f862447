"""row-level security on every tenant-owned table ([P3] item 6)

PostgreSQL only (SQLite has no row-level security: there the tenant named in every query is what
isolates the tenants). Creates the app's login role if it does not exist — its name comes from
``migrations.upgrade(app_role=...)``, i.e. MADOGUCHI_DATABASE_APP_ROLE, default madoguchi_app —
forces row-level security with policies on every table that has a ``tenant_id`` column (found
in the catalogue, so the tables of 0008 are included), and adds
``madoguchi_tenant_of_submission(id)`` for the API's lookup by a bare id. The grants themselves
are given after every upgrade (``row_security.grant_app_role``, from env.py). See
``madoguchi.migrations.row_security``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 07:10:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from madoguchi.migrations import row_security

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    role = connection.info.get(row_security.APP_ROLE_KEY, row_security.DEFAULT_APP_ROLE)
    row_security.create_app_role(connection, role)
    for table in row_security.tenant_owned_tables(connection):
        row_security.secure_tenant_table(connection, table)
    row_security.create_tenant_lookup(connection, "submission", "submissions")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("DROP FUNCTION IF EXISTS madoguchi_tenant_of_submission(uuid)"))
    for table in row_security.tenant_owned_tables(connection):
        row_security.unsecure_tenant_table(connection, table)
