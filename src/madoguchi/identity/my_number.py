"""Reading a My Number back: only with a declared purpose, and never without an audit event.

``reveal_my_number`` is the one service that decrypts a stored My Number. It writes an audit
event (``my_number.reveal``: who, the tenant, the purpose, when, the subject — a submission and
question — and the key id; never the number) in the caller's transaction, so a reveal whose
transaction fails leaves no trace and showed nothing. ``record_lookup`` writes the event of a
search by My Number (``my_number.lookup``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.crypto import DecryptionError
from madoguchi.core.errors import ServiceUnavailable
from madoguchi.core.i18n import N_
from madoguchi.core.my_number_keys import (
    KeyRing,
    MyNumberPurpose,
    key_id_of,
    mask_my_numbers,
    reveal,
)
from madoguchi.identity import audit

REVEAL_ACTION = "my_number.reveal"
LOOKUP_ACTION = "my_number.lookup"
REASON_MAX = 500


class MyNumberUnreadable(ServiceUnavailable):
    """A stored My Number cannot be opened: its key is not in the key file, or it was altered."""

    code = "my-number-unreadable"
    title = N_("The My Number cannot be read")


async def reveal_my_number(
    db: AsyncSession,
    *,
    actor: str,
    tenant_id: uuid.UUID,
    purpose: MyNumberPurpose,
    sealed: Mapping[str, Any] | str,
    subject: str,
    keys: KeyRing,
    reason: str = "",
) -> str:
    """The 12 digits of a stored My Number (``{"encrypted": …}`` as the parser stores it).

    Raises ``MyNumberUnreadable`` (and records nothing) when it cannot be opened.
    """
    token = _token_of(sealed)

    async def record(declared: MyNumberPurpose) -> None:
        await audit.append(
            db,
            actor=actor,
            action=REVEAL_ACTION,
            tenant_id=tenant_id,
            purpose=declared.value,
            subject=subject,
            details={"key_id": key_id_of(token), "reason": _safe_reason(reason)},
        )

    try:
        return await reveal(keys, token, purpose=MyNumberPurpose(purpose), record=record)
    except DecryptionError as error:
        raise MyNumberUnreadable(
            N_(
                "This My Number cannot be decrypted: {problem}. Ask the operator to check the "
                "My Number key file."
            ),
            field="my_number",
            problem=str(error),
        ) from None


async def record_lookup(
    db: AsyncSession,
    *,
    actor: str,
    tenant_id: uuid.UUID,
    purpose: MyNumberPurpose,
    found: list[str],
) -> None:
    """The audit event of a search by My Number: who, where, why and what it found."""
    await audit.append(
        db,
        actor=actor,
        action=LOOKUP_ACTION,
        tenant_id=tenant_id,
        purpose=MyNumberPurpose(purpose).value,
        subject=None,
        details={"found": found},
    )


def _token_of(sealed: Mapping[str, Any] | str) -> str:
    token = sealed.get("encrypted") if isinstance(sealed, Mapping) else sealed
    if not isinstance(token, str) or not token:
        raise MyNumberUnreadable(N_("This answer holds no sealed My Number."), field="my_number")
    return token


def _safe_reason(reason: str) -> str:
    """The reason as typed, cut to length, with any My Number typed into it masked."""
    return mask_my_numbers(reason.strip()[:REASON_MAX])
