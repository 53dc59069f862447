"""Webhooks: each new submission is told to the URLs its tenant configured.

A delivery row is written in the submission's own transaction (so a rolled-back submission is
never announced), then sent after commit, signed with HMAC-SHA256, and retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.submissions.models import Submission, Webhook, WebhookDelivery

SUBMISSION_CREATED = "submission.created"


def submission_payload(submission: Submission) -> str:
    """What a webhook receives: which submission, of what, when — never the answers, which the
    tenant fetches over its authenticated channel."""
    body = {
        "event": SUBMISSION_CREATED,
        "submission": {
            "id": str(submission.id),
            "reference": submission.reference,
            "procedure_id": str(submission.procedure_id),
            "version": submission.version,
            "submitted_at": submission.submitted_at.isoformat(),
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


async def enqueue_deliveries(
    session: AsyncSession, submission: Submission, now: dt.datetime
) -> None:
    """Queue one delivery per active webhook of the submission's tenant."""
    hooks = await session.scalars(
        select(Webhook).where(Webhook.tenant_id == submission.tenant_id, Webhook.active)
    )
    payload = submission_payload(submission)
    for hook in hooks:
        session.add(
            WebhookDelivery(
                tenant_id=submission.tenant_id,
                webhook_id=hook.id,
                submission_id=submission.id,
                event=SUBMISSION_CREATED,
                payload=payload,
                next_attempt_at=now,
            )
        )
