"""What the simulator's routes share: the switch that hides it, and who is asking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import TypeVar, cast

from fastapi import Request

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import simulator_enabled

T = TypeVar("T")


def settings_of(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def require_simulator(request: Request) -> None:
    """Every simulator route answers 404 where the simulator is off (production, or a real
    provider configured)."""
    if not simulator_enabled(settings_of(request)):
        raise NotFound(N_("There is no card simulator on this site."))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def noted_failure(errors: FormErrors, lookup: Awaitable[T]) -> T | None:
    """What ``lookup`` gives, or None with its InvalidInput noted on the form."""
    try:
        return await lookup
    except InvalidInput as error:
        errors.items.append(FormError.of(error))
        return None
