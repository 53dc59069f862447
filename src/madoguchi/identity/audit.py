"""The audit log: append-only and tamper-evident.

One hash chain per tenant (and one, "platform", for events of no tenant). Each entry's hash is
SHA-256 over the canonical JSON of all its fields and the previous entry's hash, so editing,
deleting or reordering an entry breaks the chain. Appending locks only the chain's head row
(``SELECT … FOR UPDATE`` on PostgreSQL), so writes of different tenants never wait for each other.

A chain alone cannot show that its tail was cut off, or that it was rewritten from scratch
consistently. Checkpoints record every chain's head, signed with HMAC-SHA256 under a key derived
from the application secret; ``verify`` checks the chains against the latest one. Copying the
checkpoints somewhere else (a log of another administrator) also protects against deleting them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import as_utc
from madoguchi.core.crypto import derive_key
from madoguchi.core.tenancy import enter_platform, enter_tenant, scope_of
from madoguchi.identity.models import AuditChain, AuditCheckpoint, AuditEntry

PLATFORM_CHAIN = "platform"
GENESIS_HASH = "0" * 64  # the "previous hash" of every chain's first entry
_STREAM_BATCH = 1000


@dataclass(frozen=True)
class Appended:
    chain: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Problem:
    """Something ``verify`` found wrong; ``chain``/``seq`` say where, when it is one place."""

    message: str
    chain: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = f"{self.chain or 'checkpoint'}"
        if self.seq is not None:
            where += f" #{self.seq}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Verified:
    entries: int
    chains: int
    problems: list[Problem]


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    tenant_id: uuid.UUID | None = None,
    purpose: str | None = None,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> Appended:
    """Add an entry to its tenant's chain in the caller's transaction (it commits or not).

    An entry of a tenant is written within that tenant (entered unless the transaction is
    platform-wide); an entry of no tenant goes to the platform chain from any transaction.
    """
    if tenant_id is not None and not scope_of(session).platform:
        await enter_tenant(session, tenant_id)
    chain = str(tenant_id) if tenant_id else PLATFORM_CHAIN
    last_seq, last_hash = await _lock_head(session, chain)
    fields: dict[str, Any] = {
        "chain": chain,
        "seq": last_seq + 1,
        "at": dt.datetime.now(dt.UTC),
        "actor": actor,
        "tenant_id": tenant_id,
        "action": action,
        "purpose": purpose,
        "subject": subject,
        "details": details or {},
        "prev_hash": last_hash,
    }
    digest = entry_hash(fields)
    await session.execute(insert(AuditEntry).values(**fields, hash=digest))
    await session.execute(
        update(AuditChain)
        .where(AuditChain.chain == chain)
        .values(last_seq=fields["seq"], last_hash=digest)
    )
    return Appended(chain=chain, seq=fields["seq"], hash=digest)


async def _lock_head(session: AsyncSession, chain: str) -> tuple[int, str]:
    """The chain's head (created empty if new), locked until the transaction ends.

    Creating is an insert that does nothing on conflict, so two first writers of a chain do not
    fail; on SQLite the insert also takes the write lock before anything is read.
    """
    dialect = session.get_bind().dialect.name
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        upsert(AuditChain)
        .values(chain=chain, last_seq=0, last_hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    head = await session.execute(
        select(AuditChain.last_seq, AuditChain.last_hash)
        .where(AuditChain.chain == chain)
        .with_for_update()
    )
    last_seq, last_hash = head.one()
    return last_seq, last_hash


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's fields (``hash`` itself excluded)."""
    canonical = {
        "chain": fields["chain"],
        "seq": fields["seq"],
        "at": _instant(fields["at"]),
        "actor": fields["actor"],
        "tenant_id": str(fields["tenant_id"]) if fields["tenant_id"] else None,
        "action": fields["action"],
        "purpose": fields["purpose"],
        "subject": fields["subject"],
        "details": fields["details"],
        "prev_hash": fields["prev_hash"],
    }
    return hashlib.sha256(_canonical_json(canonical)).hexdigest()


async def checkpoint(session: AsyncSession, secret: str) -> AuditCheckpoint:
    """Record and sign every chain's current head."""
    await enter_platform(session, "an audit checkpoint of every chain")
    rows = await session.execute(
        select(AuditChain.chain, AuditChain.last_seq, AuditChain.last_hash)
    )
    heads = {chain: [seq, digest] for chain, seq, digest in rows}
    at = dt.datetime.now(dt.UTC)
    signed = AuditCheckpoint(at=at, heads=heads, signature=_signature(at, heads, secret))
    session.add(signed)
    await session.flush()
    return signed


async def verify(session: AsyncSession, secret: str) -> Verified:
    """Walk every chain in order, entries streamed, and report everything that does not hold."""
    await enter_platform(session, "verifying every audit chain")
    problems: list[Problem] = []
    heads = {
        chain: (seq, digest)
        for chain, seq, digest in await session.execute(
            select(AuditChain.chain, AuditChain.last_seq, AuditChain.last_hash)
        )
    }
    recorded = await _latest_checkpoint_heads(session, secret, problems)
    walk = _ChainWalk(heads, recorded, problems)
    entries = await session.stream(
        select(*_ENTRY_COLUMNS)
        .order_by(AuditEntry.chain, AuditEntry.seq)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    async for entry in entries:
        walk.see(entry)
    walk.finish()
    return Verified(entries=walk.count, chains=len(walk.chains_seen), problems=problems)


class _ChainWalk:
    """The state of ``verify`` while the entries pass by, one chain after another."""

    def __init__(
        self,
        heads: dict[str, tuple[int, str]],
        recorded: dict[str, tuple[int, str]],
        problems: list[Problem],
    ) -> None:
        self.heads, self.recorded, self.problems = heads, recorded, problems
        self.count = 0
        self.chains_seen: set[str] = set()
        self.chain: str | None = None
        self.last_seq, self.last_hash = 0, GENESIS_HASH

    def see(self, entry: Row[Any]) -> None:
        if entry.chain != self.chain:
            self._end_chain()
            self.chain, self.last_seq, self.last_hash = entry.chain, 0, GENESIS_HASH
            self.chains_seen.add(entry.chain)
        self.count += 1
        if entry.seq != self.last_seq + 1:
            self._problem(f"entries {self.last_seq + 1} to {entry.seq - 1} are missing", entry.seq)
        if entry.prev_hash != self.last_hash:
            self._problem("does not follow the entry before it (deleted or reordered)", entry.seq)
        fields = {column: getattr(entry, column) for column in HASHED_COLUMNS}
        if entry_hash(fields) != entry.hash:
            self._problem("its contents do not match its hash (edited or moved)", entry.seq)
        mark = self.recorded.get(entry.chain)
        if mark is not None and mark[0] == entry.seq and mark[1] != entry.hash:
            self._problem("differs from the entry the latest checkpoint recorded", entry.seq)
        self.last_seq, self.last_hash = entry.seq, entry.hash

    def finish(self) -> None:
        self._end_chain()
        for chain in sorted(set(self.heads) - self.chains_seen):
            if self.heads[chain][0] != 0:
                self.problems.append(Problem("the chain's entries are all gone", chain=chain))
        for chain in sorted(set(self.recorded) - self.chains_seen):
            if self.recorded[chain][0] != 0:
                self.problems.append(Problem("a checkpointed chain has no entries", chain=chain))

    def _end_chain(self) -> None:
        if self.chain is None:
            return
        head = self.heads.get(self.chain)
        if head != (self.last_seq, self.last_hash):
            self._problem("the chain's head row does not match its last entry", None)
        mark = self.recorded.get(self.chain)
        if mark is not None and mark[0] > self.last_seq:
            self._problem(f"entries up to {mark[0]}, seen by the latest checkpoint, are gone", None)

    def _problem(self, message: str, seq: int | None) -> None:
        self.problems.append(Problem(message, chain=self.chain, seq=seq))


HASHED_COLUMNS = (
    "chain",
    "seq",
    "at",
    "actor",
    "tenant_id",
    "action",
    "purpose",
    "subject",
    "details",
    "prev_hash",
)
_ENTRY_COLUMNS = [getattr(AuditEntry, column) for column in (*HASHED_COLUMNS, "hash")]


async def _latest_checkpoint_heads(
    session: AsyncSession, secret: str, problems: list[Problem]
) -> dict[str, tuple[int, str]]:
    """Check every checkpoint's signature; the heads of the latest one that is genuine."""
    rows = await session.execute(
        select(
            AuditCheckpoint.id, AuditCheckpoint.at, AuditCheckpoint.heads, AuditCheckpoint.signature
        ).order_by(AuditCheckpoint.id)
    )
    latest: dict[str, tuple[int, str]] = {}
    for signed in rows:
        expected = _signature(signed.at, signed.heads, secret)
        if not hmac.compare_digest(expected, signed.signature):
            problems.append(Problem(f"checkpoint {signed.id} has a wrong signature"))
            continue
        latest = {chain: (int(seq), str(digest)) for chain, (seq, digest) in signed.heads.items()}
    return latest


def _signature(at: dt.datetime, heads: dict[str, Any], secret: str) -> str:
    message = _canonical_json({"at": _instant(at), "heads": heads})
    return hmac.new(derive_key("audit", secret), message, hashlib.sha256).hexdigest()


def _instant(at: dt.datetime) -> str:
    """One spelling of an instant: SQLite gives back naive UTC, PostgreSQL an aware time."""
    return as_utc(at).astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
