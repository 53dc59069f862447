"""My Numbers in submissions: find submissions by one (keyed hash, audited), list a submission's
stored numbers (masked) for the staff reveal page, and seal every stored number again under the
active key after a rotation (``madoguchi my-number reencrypt``).

A stored My Number is the parser's ``{"encrypted", "lookup", "last4"}`` — at a question's id, or
inside a repeatable group's items. Finding by number compares the keyed hash: the number is
never decrypted to search. Submissions have no index of hashes yet; the search reads the tenant's
submissions whose answers contain the hash (a text match), then checks each one's structure.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core import tenancy
from madoguchi.core.clock import as_utc
from madoguchi.core.crypto import DecryptionError
from madoguchi.core.db import unit_of_work
from madoguchi.core.errors import InvalidInput
from madoguchi.core.my_number_keys import KeyRing, MyNumberPurpose, is_my_number, reseal
from madoguchi.core.settings import Settings
from madoguchi.core.text import strip_separators
from madoguchi.identity import audit
from madoguchi.identity.my_number import record_lookup
from madoguchi.procedures.answers.identifiers import mask_my_number
from madoguchi.submissions.drafts import open_content, seal_content
from madoguchi.submissions.models import Draft, Submission

FIND_LIMIT = 50
BATCH = 200
REENCRYPT_ACTION = "my_number.reencrypt"


@dataclass(frozen=True)
class StoredMyNumber:
    path: str  # "q", or "group[0].q" inside a repeatable group
    masked: str
    sealed: Mapping[str, Any]


def is_stored_my_number(value: Any) -> bool:
    return isinstance(value, Mapping) and "encrypted" in value and "last4" in value


def stored_my_numbers(answers: Mapping[str, Any]) -> Iterator[StoredMyNumber]:
    """Every My Number in a submission's answers, with where it is, masked."""
    for path, value in _walk(answers, ""):
        last4 = str(value.get("last4", ""))
        masked = mask_my_number(last4) if len(last4) == 4 and last4.isdigit() else "●●●●"
        yield StoredMyNumber(path, masked, value)


def _walk(answers: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for question_id, value in answers.items():
        if is_stored_my_number(value):
            yield f"{prefix}{question_id}", value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping) and not is_stored_my_number(item):
                    yield from _walk(item, f"{prefix}{question_id}[{index}].")


# --- Finding by My Number -----------------------------------------------------------------------


async def find_submissions_by_my_number(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    my_number: str,
    *,
    actor: str,
    purpose: MyNumberPurpose,
    keys: KeyRing,
) -> list[Submission]:
    """The tenant's submissions (newest first, at most FIND_LIMIT) holding this My Number.

    The search is written to the audit log (``my_number.lookup``) with what it found. The
    transaction acts for ``tenant_id`` from here on (row-level security on PostgreSQL).
    """
    digits = strip_separators(my_number)
    if not (len(digits) == 12 and digits.isascii() and is_my_number(digits)):
        raise InvalidInput("Enter a valid 12-digit My Number to search for.", field="my_number")
    hashed = keys.lookup(digits)
    await tenancy.enter_tenant(db, tenant_id)
    rows = await db.scalars(
        select(Submission)
        .where(Submission.tenant_id == tenant_id)
        .where(cast(Submission.answers, Text).like(f"%{hashed}%"))
        .order_by(Submission.submitted_at.desc())
        .limit(FIND_LIMIT)
    )
    found = [row for row in rows if _holds(row.answers, hashed)]
    await record_lookup(
        db,
        actor=actor,
        tenant_id=tenant_id,
        purpose=purpose,
        found=[f"submission:{row.id}" for row in found],
    )
    return found


def _holds(answers: Mapping[str, Any], hashed: str) -> bool:
    return any(value.get("lookup") == hashed for _path, value in _walk(answers, ""))


# --- Sealing again under the active key ---------------------------------------------------------


@dataclass
class Reencrypted:
    submissions: int = 0  # rows that held a number under an older key
    drafts: int = 0
    numbers: int = 0  # numbers sealed again
    unreadable_drafts: int = 0


def resealed_answers(
    answers: Mapping[str, Any], keys: KeyRing, legacy_secret: str | None
) -> tuple[dict[str, Any], int]:
    """A copy of ``answers`` with every number not under the active key sealed again."""
    count = 0

    def again(value: Any) -> Any:
        nonlocal count
        if is_stored_my_number(value):
            fresh = reseal(keys, str(value["encrypted"]), legacy_secret)
            count += fresh is not None
            return fresh or dict(value)
        if isinstance(value, list):
            return [again(item) for item in value]
        if isinstance(value, Mapping):
            return {key: again(item) for key, item in value.items()}
        return value

    return {key: again(value) for key, value in answers.items()}, count


async def reencrypt_all(
    factory: async_sessionmaker[AsyncSession],
    keys: KeyRing,
    settings: Settings,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> Reencrypted:
    """Every tenant's submissions and drafts, a batch per transaction, then one audit event."""
    done = Reencrypted()
    kinds: tuple[type[Submission] | type[Draft], ...] = (Submission, Draft)
    for kind in kinds:
        after: tuple[uuid.UUID, uuid.UUID] | None = None
        while True:
            async with unit_of_work(factory) as db:
                await tenancy.enter_platform(db, "My Numbers sealed again after a key rotation")
                after, seen = await _reencrypt_batch(db, kind, after, batch, keys, settings, done)
            if progress:
                progress(seen)
            if after is None:
                break
    async with unit_of_work(factory) as db:
        await tenancy.enter_platform(db, "the audit event of a re-encryption")
        await audit.append(
            db,
            actor="operator:cli",
            action=REENCRYPT_ACTION,
            purpose="key rotation",
            details={"active_key": keys.active, **vars(done)},
        )
    return done


async def _reencrypt_batch(
    db: AsyncSession,
    kind: type[Submission] | type[Draft],
    after: tuple[uuid.UUID, uuid.UUID] | None,
    batch: int,
    keys: KeyRing,
    settings: Settings,
    done: Reencrypted,
) -> tuple[tuple[uuid.UUID, uuid.UUID] | None, int]:
    """One batch in key order after ``after``; the last key seen (None at the end), and how many."""
    query = select(kind).order_by(kind.tenant_id, kind.id).limit(batch).with_for_update()
    if after is not None:
        query = query.where(
            or_(kind.tenant_id > after[0], and_(kind.tenant_id == after[0], kind.id > after[1]))
        )
    rows: list[Submission | Draft] = list(await db.scalars(query))
    for row in rows:
        if isinstance(row, Submission):
            _reencrypt_submission(row, keys, settings, done)
        else:
            _reencrypt_draft(row, keys, settings, done)
    last = (rows[-1].tenant_id, rows[-1].id) if len(rows) == batch else None
    return last, len(rows)


def _reencrypt_submission(
    row: Submission, keys: KeyRing, settings: Settings, done: Reencrypted
) -> None:
    answers, count = resealed_answers(row.answers, keys, settings.resolved_secret_key())
    if count:
        row.answers = answers
        done.submissions += 1
        done.numbers += count


def _reencrypt_draft(row: Draft, keys: KeyRing, settings: Settings, done: Reencrypted) -> None:
    secret = settings.resolved_secret_key()
    try:
        content = open_content(row, secret)
    except DecryptionError:
        done.unreadable_drafts += 1  # sealed under another secret: nobody can resume it anyway
        return
    content.answers, count = resealed_answers(content.answers, keys, secret)
    if count:
        expires = row.expires_at
        seal_content(row, content, secret, as_utc(row.updated_at), settings.draft_days)
        row.expires_at = expires  # sealing again is not a change by the applicant
        done.drafts += 1
        done.numbers += count
