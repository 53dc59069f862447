"""Webhooks: each new submission is told to the URLs its tenant configured.

A delivery row is written in the submission's own transaction (so a rolled-back submission is
never announced), then sent after commit by ``deliver_due`` (the background loop runs it every
few seconds), signed with HMAC-SHA256, and retried with backoff.

Delivery is at least once: a receiver dedupes on ``X-Madoguchi-Delivery``. A due delivery is
claimed by counting its attempt and pushing its next attempt past the request timeout (a lease),
in a short transaction of its own (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
processes share the work); the HTTP request then runs with no transaction open, and the outcome
is written in another. A process that dies mid-request leaves the lease to run out, and the
delivery is tried again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.crypto import decrypt_text, encrypt_text
from madoguchi.core.db import unit_of_work
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_platform, enter_tenant
from madoguchi.submissions.models import DeliveryStatus, Submission, Webhook, WebhookDelivery

SUBMISSION_CREATED = "submission.created"
ENCRYPTION_PURPOSE = "webhook"
MAX_URL_LENGTH = 2000
# After the n-th failed attempt the next comes this much later; after the last, it has failed.
RETRY_DELAYS = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# A claimed delivery is not due again for this long: longer than any request may take.
LEASE = dt.timedelta(seconds=60)
BATCH_SIZE = 20
DNS_TIMEOUT_SECONDS = 5.0
MAX_ERROR_LENGTH = 500

log = logging.getLogger(__name__)


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
    await enter_tenant(session, submission.tenant_id)
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


# --- Configuring webhooks -------------------------------------------------------------------


async def create_webhook(
    session: AsyncSession, tenant_id: uuid.UUID, url: str, settings: Settings
) -> tuple[Webhook, str]:
    """A new active webhook and its signing secret, which is shown once and kept only
    encrypted."""
    url = url.strip()
    await check_webhook_url(url, settings)
    await enter_tenant(session, tenant_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(
        tenant_id=tenant_id,
        url=url,
        secret_sealed=encrypt_text(secret, ENCRYPTION_PURPOSE, settings.resolved_secret_key()),
        active=True,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(hook)
    await session.flush()
    return hook, secret


async def list_webhooks(session: AsyncSession, tenant_id: uuid.UUID) -> list[Webhook]:
    """A tenant's webhooks, active or not, oldest first."""
    await enter_tenant(session, tenant_id)
    found = await session.scalars(
        select(Webhook).where(Webhook.tenant_id == tenant_id).order_by(Webhook.created_at)
    )
    return list(found)


async def deactivate_webhook(
    session: AsyncSession, tenant_id: uuid.UUID, webhook_id: uuid.UUID
) -> Webhook:
    """Stop a webhook: no new deliveries, and those still waiting are given up."""
    await enter_tenant(session, tenant_id)
    hook = await session.scalar(
        select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.id == webhook_id)
    )
    if hook is None:
        raise NotFound("There is no webhook with this id.", field="webhook")
    hook.active = False
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.FAILED.value, last_error="webhook deactivated")
    )
    return hook


async def recent_deliveries(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int = 50
) -> list[WebhookDelivery]:
    """A tenant's latest deliveries, newest first: the delivery log staff read."""
    await enter_tenant(session, tenant_id)
    found = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == tenant_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(found)


async def check_webhook_url(url: str, settings: Settings) -> None:
    """Refuse a URL we should not post to: in production only https, and never a host that
    resolves to a private, loopback or link-local address (a webhook must not become a way to
    reach our own network). Development allows http and local hosts, for testing receivers."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(
            "Enter a URL of at most {limit} characters.", field="url", limit=MAX_URL_LENGTH
        )
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidInput("A URL has no spaces or control characters.", field="url")
    parts = urlsplit(url)
    allowed = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        if settings.is_production:
            raise InvalidInput("Enter an https:// URL.", field="url")
        raise InvalidInput("Enter an http:// or https:// URL.", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("Put no user name or password in the URL.", field="url")
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput("The port in the URL is not a number we can use.", field="url") from None
    if settings.is_production:
        await _check_public_host(parts.hostname, port or 443)


async def _check_public_host(host: str, port: int) -> None:
    try:
        lookup = asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = await asyncio.wait_for(lookup, DNS_TIMEOUT_SECONDS)
    except (OSError, UnicodeError, TimeoutError):
        raise InvalidInput("The host {host} cannot be found.", field="url", host=host) from None
    for _family, _type, _proto, _name, address in found:
        if not _is_public(str(address[0])):
            raise InvalidInput(
                "The host {host} is on a private network; use a public address.",
                field="url",
                host=host,
            )


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


# --- Signing --------------------------------------------------------------------------------


def signature_header(secret: str, body: str, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the timestamp is signed too,
    so a receiver can refuse an old message replayed (see docs/api.md)."""
    signed = f"{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- Delivering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    tenant_id: uuid.UUID
    id: uuid.UUID
    event: str
    payload: str
    attempt: int  # this attempt's number, from 1
    url: str
    secret_sealed: str


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None


async def deliver_due(
    session_factory: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    settings: Settings,
    now: dt.datetime,
) -> int:
    """Send the deliveries due at ``now`` (at most one batch); returns how many were tried."""
    claimed = await _claim_due(session_factory, now)
    if not claimed:
        return 0
    outcomes = await asyncio.gather(
        *(_send(client, settings, delivery, now) for delivery in claimed)
    )
    async with unit_of_work(session_factory) as session:
        await enter_platform(session, "recording webhook deliveries of every body")
        for delivery, outcome in zip(claimed, outcomes, strict=True):
            await _record_outcome(session, delivery, outcome, now)
    return len(claimed)


async def _claim_due(
    session_factory: async_sessionmaker[AsyncSession], now: dt.datetime
) -> list[_Claimed]:
    async with unit_of_work(session_factory) as session:
        await enter_platform(session, "claiming webhook deliveries of every body")
        rows = await session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret_sealed)
            .join(
                Webhook,
                (Webhook.tenant_id == WebhookDelivery.tenant_id)
                & (Webhook.id == WebhookDelivery.webhook_id),
            )
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
                Webhook.active,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        claimed = []
        for delivery, url, secret_sealed in rows:
            if await _take_lease(session, delivery, now):
                claimed.append(
                    _Claimed(
                        delivery.tenant_id,
                        delivery.id,
                        delivery.event,
                        delivery.payload,
                        delivery.attempts + 1,
                        url,
                        secret_sealed,
                    )
                )
        return claimed


async def _take_lease(session: AsyncSession, delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Count the attempt and hold the delivery for the lease. The update names the attempt
    count read, so on SQLite (no row locks) a process that read the same row loses."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == delivery.tenant_id,
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.attempts == delivery.attempts,
        )
        .values(attempts=delivery.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def _send(
    client: httpx.AsyncClient, settings: Settings, delivery: _Claimed, now: dt.datetime
) -> _Outcome:
    try:
        if settings.is_production:  # the host may have moved to a private address since
            await check_webhook_url(delivery.url, settings)
        secret = decrypt_text(
            delivery.secret_sealed, ENCRYPTION_PURPOSE, settings.resolved_secret_key()
        )
        response = await client.post(
            delivery.url,
            content=delivery.payload.encode(),
            headers=_headers(delivery, secret, int(now.timestamp())),
            timeout=REQUEST_TIMEOUT,
            follow_redirects=False,
        )
    except InvalidInput as refused:
        return _Outcome(False, error=str(refused))
    except httpx.TimeoutException:
        return _Outcome(False, error="timed out")
    except httpx.HTTPError as failure:
        return _Outcome(False, error=f"{type(failure).__name__}: {failure}")
    except Exception as failure:  # a bad secret or URL must not stop the other deliveries
        log.exception("webhook delivery %s could not be sent", delivery.id)
        return _Outcome(False, error=type(failure).__name__)
    return _Outcome(response.is_success, status_code=response.status_code)


def _headers(delivery: _Claimed, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "madoguchi-webhooks/1",
        "X-Madoguchi-Event": delivery.event,
        "X-Madoguchi-Delivery": str(delivery.id),
        "X-Madoguchi-Signature": signature_header(secret, delivery.payload, timestamp),
    }


async def _record_outcome(
    session: AsyncSession, delivery: _Claimed, outcome: _Outcome, now: dt.datetime
) -> None:
    values: dict[str, object] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:MAX_ERROR_LENGTH] if outcome.error else None,
    }
    if outcome.delivered:
        values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now}
    elif delivery.attempt > len(RETRY_DELAYS):
        values |= {"status": DeliveryStatus.FAILED.value}
    else:
        values |= {"next_attempt_at": now + RETRY_DELAYS[delivery.attempt - 1]}
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == delivery.tenant_id, WebhookDelivery.id == delivery.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
