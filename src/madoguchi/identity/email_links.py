"""One-time links sent by email: whoever opens one has proven the address (assurance: low).

A link is ``/sign-in/{token}`` with 32 random bytes as its token. Only the token's SHA-256 is
stored, so a copy of the database opens nothing. A link works once (it is spent by one atomic
``UPDATE … WHERE used_at IS NULL``, so two clicks at once cannot both win), until it expires, and
leads only to a path on this site. Each address may be sent a few links an hour, so that the form
cannot be used to flood someone's mailbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from typing import Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core import attempts
from madoguchi.core.attempts import Limit
from madoguchi.core.clock import as_utc
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.core.text import fold_width, nfc
from madoguchi.identity.models import SignInLink

TOKEN_BYTES = 32
MAX_EMAIL_LENGTH = 254
MAX_NEXT_PATH_LENGTH = 500  # the column's size
LINKS_PER_HOUR = 5  # per address

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


class DraftKey(Protocol):
    """The draft a link resumes (a submissions Draft; identity does not import submissions)."""

    @property
    def tenant_id(self) -> uuid.UUID: ...

    @property
    def id(self) -> uuid.UUID: ...


class LinkUnusable(InvalidInput):
    code = "sign-in-link-unusable"


class TooManyLinks(MadoguchiError):
    code = "too-many-sign-in-links"
    status = 429
    title = N_("Too many emails were asked for")


def parse_email(raw: str, field: str) -> str:
    """An email address as typed (full-width characters allowed), with its domain in lower case.

    Messages do not repeat what was typed: it is in the field, and Latin text inside a Japanese
    sentence could not carry its own language."""
    address = fold_width(nfc(raw)).strip()
    if not address:
        raise InvalidInput("Enter your email address.", field=field)
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidInput(
            "An email address has at most 254 characters; this one has {count}.",
            field=field,
            count=len(address),
        )
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local):
        raise InvalidInput(
            "Enter the whole email address, with the parts before and after the @.", field=field
        )
    domain = domain.lower()
    if not _is_domain(domain):
        raise InvalidInput(
            "The part after the @ is not an internet domain: check the email address.",
            field=field,
        )
    return f"{local}@{domain}"


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def is_local_path(target: str) -> bool:
    """A path on this site; never another host (``//host``, ``\\host``, ``https:``)."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and len(target) <= MAX_NEXT_PATH_LENGTH
        and all(ch.isprintable() and not ch.isspace() for ch in target)
    )


def link_path(token: str) -> str:
    return f"/sign-in/{token}"


def link_url(settings: Settings, token: str) -> str:
    """The whole address to put in an email."""
    return settings.resolved_public_url() + link_path(token)


async def create_link(
    session: AsyncSession,
    email: str,
    next_path: str,
    now: dt.datetime,
    settings: Settings,
    draft: DraftKey | None = None,
) -> str:
    """A new link's token for ``email`` (already parsed), leading to ``next_path`` on this site."""
    if not is_local_path(next_path):
        raise InvalidInput("A link can lead only to a page on this site.", field="next")
    await _check_not_flooded(session, email, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        SignInLink(
            token_hash=_hash(token),
            email=email,
            next_path=next_path,
            draft_tenant_id=draft.tenant_id if draft else None,
            draft_id=draft.id if draft else None,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.sign_in_link_minutes),
        )
    )
    await session.flush()
    return token


# Across addresses too: one client asking for links to many addresses is a mail bomb or a probe.
LINKS_FROM_ONE_CLIENT = Limit("sign-in-links-from", tries=20, window=dt.timedelta(hours=1))


async def check_client_not_flooding(session: AsyncSession, source: str, now: dt.datetime) -> None:
    """Refuse a client that asked for too many links in the last hour; count this one."""
    if await attempts.used_up(session, LINKS_FROM_ONE_CLIENT, source, now):
        raise TooManyLinks(
            N_(
                "Too many sign-in emails were asked for from your connection in the last hour. "
                "Wait {minutes} minutes and ask again."
            ),
            field="email",
            minutes=LINKS_FROM_ONE_CLIENT.minutes,
        )
    await attempts.note(session, LINKS_FROM_ONE_CLIENT, source, now)


async def _check_not_flooded(session: AsyncSession, email: str, now: dt.datetime) -> None:
    recent = await session.scalar(
        select(func.count())
        .select_from(SignInLink)
        .where(SignInLink.email == email, SignInLink.created_at > now - dt.timedelta(hours=1))
    )
    if (recent or 0) >= LINKS_PER_HOUR:
        raise TooManyLinks(
            N_(
                "We have sent several emails to this address in the last hour. Use the newest "
                "link we sent, or wait an hour and ask again."
            ),
            field="email",
        )


async def check_link(session: AsyncSession, token: str, now: dt.datetime) -> SignInLink:
    """The link, if it would still work; it is not used up (a mail scanner may open it)."""
    link = await _find(session, token)
    if link is None:
        raise _not_whole()
    if problem := _problem(link, now):
        raise problem
    return link


async def use_link(session: AsyncSession, token: str, now: dt.datetime) -> SignInLink:
    """Spend the link: it works this once, and only before it expires."""
    if _TOKEN.fullmatch(token):
        spent = await session.scalar(
            update(SignInLink)
            .where(
                SignInLink.token_hash == _hash(token),
                SignInLink.used_at.is_(None),
                SignInLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(SignInLink)
            # "fetch": the rows the database matched, not a comparison made again in Python
            .execution_options(synchronize_session="fetch", populate_existing=True)
        )
        if spent is not None:
            return spent
    link = await _find(session, token)
    if link is None:
        raise _not_whole()
    # No problem now means another request spent it between the two statements.
    raise _problem(link, now) or _used()


async def _find(session: AsyncSession, token: str) -> SignInLink | None:
    if not _TOKEN.fullmatch(token):
        return None
    return await session.scalar(
        select(SignInLink)
        .where(SignInLink.token_hash == _hash(token))
        .execution_options(populate_existing=True)
    )


def _problem(link: SignInLink, now: dt.datetime) -> LinkUnusable | None:
    if link.used_at is not None:
        return _used()
    if as_utc(link.expires_at) <= now:
        return LinkUnusable(N_("This sign-in link has expired. Ask for a new link."), field="token")
    return None


def _not_whole() -> LinkUnusable:
    return LinkUnusable(
        N_(
            "This sign-in link does not work: it may not have been copied whole. "
            "Ask for a new link."
        ),
        field="token",
    )


def _used() -> LinkUnusable:
    return LinkUnusable(
        N_("This sign-in link has already been used. Ask for a new link."), field="token"
    )


async def purge_links(session: AsyncSession, now: dt.datetime) -> int:
    """Delete the links that can no longer be used nor count against the hourly limit (a
    scheduled job's work: the table holds email addresses, kept no longer than needed)."""
    result = await session.execute(
        delete(SignInLink).where(
            SignInLink.created_at <= now - dt.timedelta(hours=1),
            or_(SignInLink.expires_at <= now, SignInLink.used_at.is_not(None)),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
