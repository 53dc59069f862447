"""Whose rows the current transaction may see: one tenant, the whole platform, or a person's own.

Every query on tenant-owned data names its tenant in code. On PostgreSQL a second line holds
too: row-level security is forced on every tenant-owned table (migration 0010,
``migrations.row_security``), and the running app connects as a role that is neither the
tables' owner nor BYPASSRLS, so a query that forgot its tenant sees nothing of anyone else's.
The policies read three transaction-local settings, written here:

- ``madoguchi.tenant_id``: the tenant the transaction acts for (``enter_tenant``);
- ``madoguchi.platform``: ``on`` for work that is platform-wide by nature — background webhook
  deliveries and the draft purge, command-line commands, ``audit verify`` (``enter_platform``);
- ``madoguchi.person_id`` (with ``madoguchi.email`` and ``madoguchi.remembered``): a visitor's
  own drafts and submissions, at every body (``enter_person``, for ``/me``).

``set_config(…, true)`` is ``SET LOCAL``: the settings vanish when the transaction ends (the
request's unit of work is one transaction), and a savepoint rolled back takes back what was set
inside it. Entering again switches, e.g. from platform-wide work to one tenant's. What was
entered is remembered for the transaction, so entering the same scope again costs nothing.

SQLite has no row-level security: there the scope is only recorded (``scope_of``), and the
tenant named in every query is what protects the data.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

log = logging.getLogger(__name__)

TENANT_SETTING = "madoguchi.tenant_id"
PLATFORM_SETTING = "madoguchi.platform"
PERSON_SETTING = "madoguchi.person_id"
EMAIL_SETTING = "madoguchi.email"
REMEMBERED_SETTING = "madoguchi.remembered"
_INFO_KEY = "madoguchi.scope"


@dataclass(frozen=True)
class Scope:
    """What the current transaction has entered."""

    tenant_id: uuid.UUID | None = None
    platform_reason: str | None = None  # why the work is platform-wide, when it is
    person_id: uuid.UUID | None = None
    email: str | None = None
    remembered: tuple[uuid.UUID, ...] = ()

    @property
    def platform(self) -> bool:
        return self.platform_reason is not None

    def settings(self) -> dict[str, str]:
        """The values of the transaction's settings ('' for none)."""
        return {
            TENANT_SETTING: str(self.tenant_id) if self.tenant_id else "",
            PLATFORM_SETTING: "on" if self.platform else "",
            PERSON_SETTING: str(self.person_id) if self.person_id else "",
            EMAIL_SETTING: self.email or "",
            REMEMBERED_SETTING: ",".join(str(item) for item in self.remembered),
        }


async def enter_tenant(db: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Act for ``tenant_id`` for the rest of the transaction (platform scope ends)."""
    await _enter(db, replace(_current(db), tenant_id=tenant_id, platform_reason=None))


async def enter_platform(db: AsyncSession, reason: str) -> None:
    """Work across every tenant for the rest of the transaction. Only for work that is
    platform-wide by nature; ``reason`` says which (it is logged at debug level)."""
    log.debug("platform-wide transaction: %s", reason)
    await _enter(db, replace(_current(db), tenant_id=None, platform_reason=reason))


async def enter_person(
    db: AsyncSession,
    person_id: uuid.UUID | None,
    *,
    email: str | None = None,
    remembered: Iterable[uuid.UUID] = (),
) -> None:
    """Let the transaction also read a visitor's own drafts and submissions, at any body: those
    of the signed-in ``person_id``, those made with the ``email`` they proved, and those whose
    ids their signed session ``remembered``. The tenant entered, if any, stays."""
    own = replace(
        _current(db), person_id=person_id, email=email, remembered=tuple(sorted(set(remembered)))
    )
    await _enter(db, own)


def scope_of(db: AsyncSession) -> Scope:
    """What the current transaction has entered (nothing, once it has ended)."""
    return _current(db)


async def _enter(db: AsyncSession, scope: Scope) -> None:
    await db.connection()  # begins the transaction the scope is recorded for
    stack, stale = _live_entries(db)
    before = stack[-1][1].settings() if stack and not stale else {}
    if db.get_bind().dialect.name == "postgresql":
        changed = {k: v for k, v in scope.settings().items() if before.get(k) != v}
        if changed:
            await _set_locally(db, changed)
    transaction = _transaction(db)
    if stack and stack[-1][0] is transaction:
        stack.pop()
    db.info[_INFO_KEY] = [*stack, (transaction, scope)]


async def _set_locally(db: AsyncSession, values: dict[str, str]) -> None:
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(values)))
    params: dict[str, Any] = {}
    for i, (name, value) in enumerate(values.items()):
        params[f"n{i}"], params[f"v{i}"] = name, value
    await db.execute(text(f"SELECT {calls}"), params)


def _current(db: AsyncSession) -> Scope:
    stack, _stale = _live_entries(db)
    return stack[-1][1] if stack else Scope()


def _live_entries(db: AsyncSession) -> tuple[list[tuple[Any, Scope]], bool]:
    """The scopes entered in the transaction now open and the savepoints around it, innermost
    last, and whether a savepoint that entered one has ended since. Such a scope may still hold
    (a savepoint released keeps its settings) or not (one rolled back takes them back), so the
    next entering sets every setting again rather than trusting what is recorded."""
    recorded: list[tuple[Any, Scope]] = db.info.get(_INFO_KEY, [])
    open_now = _open_transactions(db)
    live = [(t, scope) for t, scope in recorded if any(t is o for o in open_now)]
    return live, len(live) != len(recorded) and bool(open_now)


def _open_transactions(db: AsyncSession) -> list[Any]:
    """The transaction now open and every one around it (savepoints within the outermost)."""
    found = []
    transaction = _transaction(db)
    while transaction is not None and transaction.is_active:
        found.append(transaction)
        transaction = transaction.parent
    return found


def _transaction(db: AsyncSession) -> Any:
    sync = db.sync_session
    return sync.get_nested_transaction() or sync.get_transaction()


# --- the role the app connects as ---------------------------------------------------------


class UnsafeDatabaseRole(RuntimeError):
    """The app's database role could read past row-level security."""


ROLE_CHECK = """
    SELECT r.rolname, r.rolsuper, r.rolbypassrls,
           EXISTS (SELECT 1 FROM pg_catalog.pg_tables t
                   WHERE t.schemaname = current_schema()
                     AND pg_catalog.pg_has_role(current_user, t.tableowner, 'MEMBER')) AS owner
    FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
"""


def guard(engine: AsyncEngine) -> None:
    """Check the role of every new connection to PostgreSQL (``check_role``)."""
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine, "connect", _check_new_connection)


async def check_engine_role(engine: AsyncEngine) -> None:
    """At start-up: refuse an unsafe role (``UnsafeDatabaseRole``). A database that cannot be
    reached yet is logged and left to the readiness probe; each new connection is checked."""
    if engine.dialect.name != "postgresql":
        return
    try:
        async with engine.connect() as connection:
            await check_role(connection)
    except UnsafeDatabaseRole:
        await engine.dispose()  # the server will not start: leave no connection behind
        raise
    except Exception as error:  # noqa: BLE001  not reachable now: /readyz says so
        log.warning("could not check the database role at start-up: %s", type(error).__name__)


async def check_role(connection: AsyncConnection) -> None:
    """Refuse a role that row-level security would not hold: a superuser, a BYPASSRLS role, or
    the tables' owner (or a member of the owner's role). PostgreSQL only."""
    row = (await connection.execute(text(ROLE_CHECK))).one()
    _refuse_unsafe(*row)


def _check_new_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(ROLE_CHECK)
        row = cursor.fetchone()
    finally:
        cursor.close()
    _refuse_unsafe(*row)


def _refuse_unsafe(name: str, superuser: bool, bypasses: bool, owner: bool) -> None:
    problems = [
        problem
        for problem, present in (
            ("is a superuser", superuser),
            ("has BYPASSRLS", bypasses),
            ("owns the tables (or is a member of their owner's role)", owner),
        )
        if present
    ]
    if problems:
        raise UnsafeDatabaseRole(
            f"the app connects to PostgreSQL as {name!r}, which {' and '.join(problems)}, "
            "so row-level security would not keep the tenants apart. Set "
            "MADOGUCHI_APP_DATABASE_URL to a URL with the app's role (MADOGUCHI_DATABASE_APP_ROLE, "
            "created by `madoguchi db upgrade`), or leave it empty to use MADOGUCHI_DATABASE_URL "
            "with that role as its user; see docs/operations.md."
        )
