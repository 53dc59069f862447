"""Row-level security on PostgreSQL: the app's role, its grants, and a policy on every
tenant-owned table. Migration 0010 applies it to every table that has a ``tenant_id``; a later
migration that creates a tenant-owned table calls ``secure_tenant_table`` for it (a test fails
when one is forgotten). Everything here is PostgreSQL only and safe to run again.

The policies read the settings ``core.tenancy`` writes for each transaction:

- every tenant-owned table: a row is seen and written only by a transaction that entered its
  tenant, or platform-wide work (``tenant_scope``);
- ``procedures`` and ``areas`` are read by anyone (the public catalogue, reference data), and
  ``procedure_versions`` when published: still written only in scope (``shared_read``);
- ``drafts`` and ``submissions`` are also read by the visitor they belong to: the signed-in
  person, the email address they proved, the ids their signed session remembers; any other
  table with a ``person_id`` by that person (``own_read``);
- ``audit_entries``: read in scope (platform-wide only for the platform chain, whose
  ``tenant_id`` is NULL), appended to for the tenant entered or for the platform chain, never
  changed (``audit_read``, ``audit_append``; the app role has no UPDATE or DELETE either).

Grants are given again at the end of every ``migrations.upgrade`` (``grant_app_role``, from
env.py), so a table added later is granted without a step of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

DEFAULT_APP_ROLE = "madoguchi_app"
APP_ROLE_KEY = "madoguchi.app_role"  # where env.py puts the role's name in connection.info

CURRENT_TENANT = "NULLIF(current_setting('madoguchi.tenant_id', true), '')::uuid"
PLATFORM = "COALESCE(current_setting('madoguchi.platform', true) = 'on', false)"
CURRENT_PERSON = "NULLIF(current_setting('madoguchi.person_id', true), '')::uuid"
CURRENT_EMAIL = "NULLIF(current_setting('madoguchi.email', true), '')"
REMEMBERED = (
    "string_to_array(NULLIF(current_setting('madoguchi.remembered', true), ''), ',')::uuid[]"
)
IN_SCOPE = f"(tenant_id = {CURRENT_TENANT} OR {PLATFORM})"
VISITORS_OWN = (
    f"(person_id = {CURRENT_PERSON} OR email = {CURRENT_EMAIL} OR id = ANY({REMEMBERED}))"
)

# Who else may read a tenant's rows (they are still written only in scope).
SHARED_READS = {
    "procedures": "true",
    "areas": "true",
    "procedure_versions": "status = 'published'",
    "drafts": VISITORS_OWN,
    "submissions": VISITORS_OWN,
    "sealed_documents": "true",  # found by the reference printed on the document
}
APPEND_ONLY = ("audit_entries", "audit_checkpoints")  # the app may read and add, never change
READ_ONLY = ("alembic_version",)


@dataclass(frozen=True)
class Policy:
    name: str
    command: str  # ALL, SELECT or INSERT
    using: str | None = None
    check: str | None = None

    def create(self, table: str) -> str:
        sql = f"CREATE POLICY {self.name} ON {table} FOR {self.command}"
        if self.using is not None:
            sql += f" USING ({self.using})"
        if self.check is not None:
            sql += f" WITH CHECK ({self.check})"
        return sql


def policies_for(table: str, columns: set[str]) -> list[Policy]:
    """The policies of one tenant-owned table (``columns``: its column names)."""
    if table == "audit_entries":
        return [
            Policy("audit_read", "SELECT", using=IN_SCOPE),
            Policy("audit_append", "INSERT", check=f"(tenant_id IS NULL OR {IN_SCOPE})"),
        ]
    policies = [Policy("tenant_scope", "ALL", using=IN_SCOPE, check=IN_SCOPE)]
    if table in SHARED_READS:
        policies.append(Policy("shared_read", "SELECT", using=SHARED_READS[table]))
    elif "person_id" in columns:
        policies.append(Policy("own_read", "SELECT", using=f"person_id = {CURRENT_PERSON}"))
    return policies


def tenant_owned_tables(connection: Connection) -> list[str]:
    """Every table of the schema with a ``tenant_id`` column, from the catalogue."""
    rows = connection.execute(
        text(
            "SELECT c.table_name FROM information_schema.columns c"
            " JOIN information_schema.tables t"
            "   ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'"
            "   AND t.table_type = 'BASE TABLE' ORDER BY c.table_name"
        )
    )
    return [row[0] for row in rows]


def secure_tenant_table(connection: Connection, table: str) -> None:
    """Force row-level security on ``table`` and (re)create its policies."""
    quoted = _quote(connection, table)
    for (name,) in connection.execute(
        text(
            "SELECT policyname FROM pg_policies WHERE schemaname = current_schema()"
            " AND tablename = :table"
        ),
        {"table": table},
    ):
        connection.execute(text(f"DROP POLICY {_quote(connection, name)} ON {quoted}"))
    connection.execute(text(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY"))
    for policy in policies_for(table, _columns(connection, table)):
        connection.execute(text(policy.create(quoted)))


def unsecure_tenant_table(connection: Connection, table: str) -> None:
    """Undo ``secure_tenant_table`` (for a downgrade)."""
    quoted = _quote(connection, table)
    for policy in policies_for(table, _columns(connection, table)):
        connection.execute(text(f"DROP POLICY IF EXISTS {policy.name} ON {quoted}"))
    connection.execute(text(f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY"))
    connection.execute(text(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY"))


def create_tenant_lookup(connection: Connection, thing: str, table: str) -> None:
    """``madoguchi_tenant_of_<thing>(id)``: the tenant of one row found by its id alone, and
    nothing else of it, so that a lookup by a bare id can enter the right tenant. It runs as
    the tables' owner (SECURITY DEFINER), platform-wide for the one query."""
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    where = f"{_quote(connection, schema)}.{_quote(connection, table)}"
    name = f"madoguchi_tenant_of_{thing}"  # ``thing`` is a word in the code, not an input
    body = f"SELECT tenant_id FROM {where} WHERE id = wanted"  # noqa: S608  quoted identifiers
    connection.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {name}(wanted uuid) RETURNS uuid"
            " LANGUAGE sql STABLE SECURITY DEFINER"
            f" SET search_path = pg_catalog, {_quote(connection, schema)}"
            f" SET madoguchi.platform = 'on' AS $$ {body} $$"
        )
    )
    connection.execute(text(f"REVOKE ALL ON FUNCTION {name}(uuid) FROM PUBLIC"))


def create_app_role(connection: Connection, role: str) -> None:
    """The login role the app connects as, unless it exists: no superuser, no BYPASSRLS, no
    CREATEROLE. Two migrations creating it at once (two databases on one server) both
    succeed; a migrating user without CREATEROLE is told what to do."""
    name, literal = _quote(connection, role), _literal(role)
    connection.execute(
        text(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {literal}) THEN
                BEGIN
                  CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
                EXCEPTION
                  WHEN duplicate_object OR unique_violation THEN NULL;
                  WHEN insufficient_privilege THEN RAISE EXCEPTION
                    'madoguchi: the role % does not exist and % may not create it', {literal},
                    current_user
                    USING HINT = 'Create it (CREATE ROLE ' || {literal} || ' LOGIN) or give the'
                      ' migrating user CREATEROLE; see docs/operations.md.';
                END;
              END IF;
            END $$
            """
        )
    )


def grant_app_role(connection: Connection, role: str) -> None:
    """What the app's role may do, on every table there is now (run after every upgrade):
    read and write, but only read and add to the audit log, and only read ``alembic_version``.
    Nothing when the role does not exist (before migration 0010)."""
    exists = connection.execute(
        text("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if exists is None:
        return
    name = _quote(connection, role)
    connection.execute(
        text(
            "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I',"
            f" current_database(), {_literal(role)}); END $$"
        )
    )
    connection.execute(text(f"GRANT USAGE ON SCHEMA {_current_schema(connection)} TO {name}"))
    for table in _tables(connection):
        quoted = _quote(connection, table)
        connection.execute(text(f"REVOKE ALL ON TABLE {quoted} FROM {name}"))
        connection.execute(text(f"GRANT {_privileges(table)} ON TABLE {quoted} TO {name}"))
    schema = _current_schema(connection)
    connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {name}"))
    for (function,) in connection.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p"
            " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema() AND p.proname LIKE 'madoguchi\\_%'"
        )
    ):
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {name}"))


def _privileges(table: str) -> str:
    if table in APPEND_ONLY:
        return "SELECT, INSERT"
    if table in READ_ONLY:
        return "SELECT"
    return "SELECT, INSERT, UPDATE, DELETE"


def _tables(connection: Connection) -> list[str]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")
    )
    return sorted(row[0] for row in rows)


def _columns(connection: Connection, table: str) -> set[str]:
    rows = connection.execute(
        text(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = :table"
        ),
        {"table": table},
    )
    return {row[0] for row in rows}


def _current_schema(connection: Connection) -> str:
    return _quote(connection, connection.execute(text("SELECT current_schema()")).scalar_one())


def _quote(connection: Connection, identifier: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(identifier)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
