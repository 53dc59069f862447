"""What a public body offers on its page, contributed by higher layers.

The tenants domain shows a body's page but must not import the domains above it. Those domains
register an ``OfferingsProvider`` on the application (``app.state.offerings``, wired in
``web.app``); the page asks each provider for what that body offers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Offering:
    title: str
    summary: str
    href: str


OfferingsProvider = Callable[[AsyncSession, Any], Awaitable[list[Offering]]]
