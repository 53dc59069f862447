"""Server-side sessions: who is signed in, how strongly, and what the browser keeps between pages.

The browser holds only a random token in an HttpOnly cookie; ``web_sessions`` keeps the SHA-256
of it with everything else. ``ServerSessions`` (ASGI middleware) loads the row before the route
runs, exposes its ``data`` as ``request.session`` (what ``core.sessions`` reads: the form token,
the drafts made in this browser), and writes it back when the response starts. So:

- sign-in and every change of privilege *rotate* the token (a token planted before sign-in is
  worthless after it: no session fixation), with a fresh form token;
- sign-out, an account disabled (``end_sessions_of``), the idle timeout and the absolute timeout
  end the session on the server: the row is gone, and the cookie with it;
- a response that failed (5xx) saves nothing, so a half-done sign-in never sticks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.core.clock import as_utc
from madoguchi.core.db import unit_of_work
from madoguchi.core.sessions import CSRF_FIELD, SESSION_COOKIE
from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.identity.models import Assurance, Person, SignInMethod, WebSession

STATE_KEY = "madoguchi.session"
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often
DISPLAY_KEY = "display"  # the name shown in the header while signed in
RECEIPT_ONCE = "receipt_once"  # a receipt a shared terminal may show once after signing out


class AccountDisabled(Exception):
    """Raised by ``sign_in`` for a disabled person: the caller shows its own page."""


@dataclass
class SessionState:
    """One browser's session while a request runs; the middleware persists it afterwards."""

    token_hash: str | None
    data: dict[str, Any] = field(default_factory=dict)
    person_id: uuid.UUID | None = None
    method: str | None = None
    assurance: Assurance = Assurance.NONE
    acting_for: uuid.UUID | None = None
    shared_terminal: bool = False
    created_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    signed_in_at: dt.datetime | None = None
    card_proven_at: dt.datetime | None = None
    rotate: bool = False
    ended: bool = False
    clear_cookie: bool = False  # the browser sent a token that leads nowhere (expired, ended)
    loaded: str = ""  # what was read, to tell whether anything changed

    def fingerprint(self) -> str:
        return json.dumps(
            [
                self.data,
                str(self.person_id),
                self.method,
                int(self.assurance),
                str(self.acting_for),
                self.shared_terminal,
                str(self.card_proven_at),
            ],
            sort_keys=True,
            default=str,
        )

    def worth_keeping(self) -> bool:
        return bool(self.data) or self.person_id is not None or self.shared_terminal


@dataclass(frozen=True)
class Visitor:
    """Who is at the other end of a request, as far as the session says."""

    person_id: uuid.UUID | None
    method: str | None
    assurance: Assurance
    acting_for: uuid.UUID | None
    signed_in_at: dt.datetime | None
    card_proven_at: dt.datetime | None
    shared_terminal: bool

    @property
    def signed_in(self) -> bool:
        return self.person_id is not None


# --- What routes call ------------------------------------------------------------------------


def state_of(request: HTTPConnection) -> SessionState:
    state = request.scope.get(STATE_KEY)
    if not isinstance(state, SessionState):
        raise RuntimeError("ServerSessions middleware is not installed")
    return state


def visitor(request: HTTPConnection) -> Visitor:
    state = state_of(request)
    return Visitor(
        person_id=state.person_id,
        method=state.method,
        assurance=state.assurance,
        acting_for=state.acting_for,
        signed_in_at=state.signed_in_at,
        card_proven_at=state.card_proven_at,
        shared_terminal=state.shared_terminal,
    )


async def sign_in(
    request: Request,
    db: AsyncSession,
    person: Person,
    method: SignInMethod,
    assurance: Assurance,
) -> None:
    """Make ``person`` the signed-in person of this browser, with a new session id and form
    token, and write the sign-in to the audit log. A card sign-in also records the fresh card
    proof that step-up asks for."""
    if person.disabled_at is not None:
        raise AccountDisabled(str(person.id))
    now = _now()
    state = state_of(request)
    state.person_id = person.id
    state.method = method.value
    state.assurance = assurance
    state.acting_for = None
    state.signed_in_at = now
    if method is SignInMethod.CARD:
        state.card_proven_at = now
    state.data[DISPLAY_KEY] = person.display_name or person.name or person.email or ""
    change_privilege(request)
    await audit.append(
        db,
        actor=f"person:{person.id}",
        action=f"sign_in.{method.value}",
        details={"assurance": assurance.name.lower()},
    )


def change_privilege(request: HTTPConnection) -> None:
    """Issue a new session id and form token when the response goes out (after sign-in, a
    change of role or of the organisation acted for)."""
    state = state_of(request)
    state.rotate = True
    state.data[CSRF_FIELD] = secrets.token_urlsafe(32)


def act_for(request: HTTPConnection, organisation_id: uuid.UUID | None) -> None:
    state_of(request).acting_for = organisation_id
    change_privilege(request)


def sign_out(request: HTTPConnection) -> None:
    """End this browser's session on the server. A shared terminal (a help desk's) gets a fresh,
    empty session that is still marked shared, so the next person is signed out after them."""
    state = state_of(request)
    if not state.shared_terminal:
        state.ended = True
        state.data.clear()
        return
    fresh = SessionState(token_hash=state.token_hash, shared_terminal=True, rotate=True)
    for name in ("data", "person_id", "method", "assurance", "acting_for", "signed_in_at"):
        setattr(state, name, getattr(fresh, name))
    state.card_proven_at, state.created_at = None, None
    state.rotate = True
    state.data[CSRF_FIELD] = secrets.token_urlsafe(32)


def mark_shared_terminal(request: HTTPConnection, shared: bool) -> None:
    state_of(request).shared_terminal = shared


def procedure_completed(request: HTTPConnection, submission_id: str) -> None:
    """On a shared terminal, sign the person out as soon as they complete a procedure (a 2023
    mis-registration of bank accounts came from a help-desk terminal nobody signed out of). The
    receipt may still be shown once, right now."""
    state = state_of(request)
    if not state.shared_terminal or state.person_id is None:
        return
    sign_out(request)
    state.data[RECEIPT_ONCE] = submission_id


def receipt_shown_once(request: HTTPConnection, submission_id: str) -> bool:
    """Whether this is the one showing of a receipt left by ``procedure_completed``; it is used
    up by asking."""
    data = state_of(request).data
    if data.get(RECEIPT_ONCE) != submission_id:
        return False
    del data[RECEIPT_ONCE]
    return True


async def end_sessions_of(db: AsyncSession, person_id: uuid.UUID) -> int:
    """End every session of a person (account disabled, credentials changed); returns how many."""
    result = await db.execute(delete(WebSession).where(WebSession.person_id == person_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(db: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """Delete sessions past their idle or absolute limit (the background job calls this)."""
    signed_in_idle = now - dt.timedelta(minutes=settings.session_idle_minutes)
    anonymous_idle = now - dt.timedelta(days=settings.draft_days)
    result = await db.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now)
            | (WebSession.person_id.is_not(None) & (WebSession.last_seen_at <= signed_in_idle))
            | (WebSession.last_seen_at <= anonymous_idle)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- The middleware --------------------------------------------------------------------------


class ServerSessions:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.secure = settings.is_production or settings.resolved_public_url().startswith("https:")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        factory: async_sessionmaker[AsyncSession] = scope["app"].state.session_factory
        token = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        state = await self._load(factory, token)
        scope[STATE_KEY] = state
        scope["session"] = state.data

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 500:
                cookie = await self._save(factory, state)
                if cookie is not None:
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _load(
        self, factory: async_sessionmaker[AsyncSession], token: str | None
    ) -> SessionState:
        if not token:
            return SessionState(token_hash=None)
        token_hash = _hash(token)
        async with unit_of_work(factory) as db:
            row = await db.get(WebSession, token_hash)
            if row is None:
                return SessionState(token_hash=None, clear_cookie=True)
            if self._expired(row, _now()):
                await db.delete(row)
                return SessionState(token_hash=None, clear_cookie=True)
            state = _state_from(row)
        state.loaded = state.fingerprint()
        return state

    def _expired(self, row: WebSession, now: dt.datetime) -> bool:
        # A shared terminal forgets as soon as a signed-in session would, even between people.
        idle = self._idle_limit(signed_in=row.person_id is not None or row.shared_terminal)
        return as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + idle <= now

    def _idle_limit(self, *, signed_in: bool) -> dt.timedelta:
        """Signed in: the configured idle timeout. Nobody signed in: the session only remembers
        which drafts this browser made, and lives as long as they do, so that a pause never
        loses a form (the drafts' answers stay on the server, sealed)."""
        if signed_in:
            return dt.timedelta(minutes=self.settings.session_idle_minutes)
        return dt.timedelta(days=self.settings.draft_days)

    def _absolute_limit(self, *, signed_in: bool) -> dt.timedelta:
        if signed_in:
            return dt.timedelta(hours=self.settings.session_absolute_hours)
        return dt.timedelta(days=self.settings.draft_days)

    async def _save(
        self, factory: async_sessionmaker[AsyncSession], state: SessionState
    ) -> str | None:
        """Persist the session; returns the Set-Cookie value when the cookie must change."""
        now = _now()
        if state.ended:
            await self._delete(factory, state.token_hash)
            return self._cookie("", expire=True) if state.token_hash or state.clear_cookie else None
        if state.rotate or (state.token_hash is None and state.worth_keeping()):
            token = await self._replace(factory, state, now)
            return self._cookie(token)
        if state.token_hash is not None and self._changed(state, now):
            await self._update(factory, state, now)
        if state.clear_cookie and state.token_hash is None:
            return self._cookie("", expire=True)
        return None

    def _changed(self, state: SessionState, now: dt.datetime) -> bool:
        stale = state.last_seen_at is None or now - state.last_seen_at >= TOUCH_EVERY
        return stale or state.fingerprint() != state.loaded

    async def _replace(
        self, factory: async_sessionmaker[AsyncSession], state: SessionState, now: dt.datetime
    ) -> str:
        token = secrets.token_urlsafe(32)
        async with unit_of_work(factory) as db:
            if state.token_hash is not None:
                await db.execute(
                    delete(WebSession).where(WebSession.token_hash == state.token_hash)
                )
            signed_in = state.person_id is not None
            # The absolute limit runs from sign-in; a later rotation (a change of role) keeps it.
            started = state.signed_in_at if signed_in and state.signed_in_at else now
            db.add(
                WebSession(
                    token_hash=_hash(token),
                    created_at=state.created_at or now,
                    last_seen_at=now,
                    expires_at=started + self._absolute_limit(signed_in=signed_in),
                    **_columns_of(state),
                )
            )
        state.token_hash, state.rotate = _hash(token), False
        return token

    async def _update(
        self, factory: async_sessionmaker[AsyncSession], state: SessionState, now: dt.datetime
    ) -> None:
        async with unit_of_work(factory) as db:
            row = await db.get(WebSession, state.token_hash)
            if row is None:  # ended elsewhere (signed out in another tab, account disabled)
                return
            for name, value in _columns_of(state).items():
                setattr(row, name, value)
            row.last_seen_at = now

    async def _delete(
        self, factory: async_sessionmaker[AsyncSession], token_hash: str | None
    ) -> None:
        if token_hash is None:
            return
        async with unit_of_work(factory) as db:
            await db.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    def _cookie(self, token: str, *, expire: bool = False) -> str:
        parts = [f"{SESSION_COOKIE}={token}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if expire:
            parts.append("Max-Age=0")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def _state_from(row: WebSession) -> SessionState:
    return SessionState(
        token_hash=row.token_hash,
        data=dict(row.data or {}),
        person_id=row.person_id,
        method=row.method,
        assurance=Assurance(row.assurance),
        acting_for=row.acting_for,
        shared_terminal=row.shared_terminal,
        created_at=as_utc(row.created_at),
        last_seen_at=as_utc(row.last_seen_at),
        expires_at=as_utc(row.expires_at),
        signed_in_at=as_utc(row.signed_in_at) if row.signed_in_at else None,
        card_proven_at=as_utc(row.card_proven_at) if row.card_proven_at else None,
    )


def _columns_of(state: SessionState) -> dict[str, Any]:
    return {
        "person_id": state.person_id,
        "method": state.method,
        "assurance": int(state.assurance),
        "acting_for": state.acting_for,
        "data": dict(state.data),
        "shared_terminal": state.shared_terminal,
        "signed_in_at": state.signed_in_at,
        "card_proven_at": state.card_proven_at,
    }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
