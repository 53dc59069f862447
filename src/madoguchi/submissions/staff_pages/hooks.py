"""A body's webhooks: add one (its signing secret shown once), deactivate one, and read the
delivery log."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.staff_access import StaffAdministrator
from madoguchi.submissions import webhooks
from madoguchi.submissions.models import DeliveryStatus, Webhook, WebhookDelivery
from madoguchi.submissions.staff_pages.shared import when
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/staff/bodies/{code}/webhooks", include_in_schema=False)

DELIVERIES_SHOWN = 50
DELIVERY_STATUSES = {
    DeliveryStatus.PENDING: N_("Waiting"),
    DeliveryStatus.DELIVERED: N_("Delivered"),
    DeliveryStatus.FAILED: N_("Failed"),
}


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    reference: str
    status: str
    outcome: str  # the receiver's last status code, or the error
    next_attempt: str | None


@router.get("", response_class=HTMLResponse)
async def webhooks_page(
    request: Request, code: str, session: Session, staff: StaffAdministrator, done: str = ""
) -> HTMLResponse:
    tenant = await tenants.get_tenant(session, code)
    notice = _("The webhook is deactivated.") if done == "deactivated" else None
    return await _webhooks_response(request, session, tenant, FormErrors(), notice=notice)


@router.post("")
async def change_webhooks(
    request: Request, code: str, session: Session, staff: StaffAdministrator
) -> Response:
    """Add a webhook (its secret is in this answer only) or deactivate one."""
    form = await request.form()
    check_csrf(request, form)
    tenant = await tenants.get_tenant(session, code)
    if form.get("action") == "deactivate":
        await webhooks.deactivate_webhook(session, tenant.id, _webhook_id(form.get("webhook")))
        return RedirectResponse(f"/staff/bodies/{tenant.code}/webhooks?done=deactivated", 303)
    url = form.get("url")
    url = url if isinstance(url, str) else ""
    try:
        hook, secret = await webhooks.create_webhook(
            session, tenant.id, url, request.app.state.settings
        )
    except InvalidInput as error:
        errors = FormErrors([FormError.of(error)])
        return await _webhooks_response(request, session, tenant, errors, url=url, status=422)
    return await _webhooks_response(request, session, tenant, FormErrors(), added=(hook, secret))


async def _webhooks_response(
    request: Request,
    session: AsyncSession,
    tenant: tenants.Tenant,
    errors: FormErrors,
    *,
    url: str = "",
    notice: str | None = None,
    added: tuple[Webhook, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    deliveries = await webhooks.recent_deliveries(session, tenant.id, DELIVERIES_SHOWN)
    html = render(
        "staff/webhooks.html",
        request=request,
        tenant=tenant,
        errors=errors,
        url=url,
        notice=notice,
        added=added,
        hooks=await webhooks.list_webhooks(session, tenant.id),
        deliveries=[_row(delivery) for delivery in deliveries],
    )
    # The secret is in this page alone: never kept by a cache, never put in an address.
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _webhook_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("There is no webhook with this id.", field="webhook") from None


def _row(delivery: WebhookDelivery) -> DeliveryRow:
    status = DELIVERY_STATUSES.get(DeliveryStatus(delivery.status))
    code = str(delivery.last_status_code) if delivery.last_status_code else ""
    pending = delivery.status == DeliveryStatus.PENDING
    return DeliveryRow(
        delivery=delivery,
        reference=_reference_in(delivery.payload),
        status=_(status) if status else delivery.status,
        outcome=delivery.last_error or code,
        next_attempt=when(delivery.next_attempt_at) if pending else None,
    )


def _reference_in(payload: str) -> str:
    """The submission's reference as the receiver was told it (the payload names it)."""
    try:
        return str(json.loads(payload)["submission"]["reference"])
    except (ValueError, KeyError, TypeError):
        return ""
