"""Passkeys (WebAuthn, with the ``webauthn`` package): adding one, signing in with one, removing.

The relying party is this site as ``settings.resolved_public_url()`` names it: its host is the
rp id, ``scheme://host[:port]`` the only accepted origin. Credentials are discoverable (the
authenticator keeps the account, so signing in needs no name typed first) and user
verification is required (a fingerprint, a face or the device's PIN), so a passkey is two factors
in one.

Challenges live in the server-side session, one per ceremony, for five minutes, and are taken
out when a response is checked: an assertion posted twice, or for a challenge already used,
finds none. The signature counter is checked after the signature: a counter that did not go up
(when either side is non-zero) means two copies of the key exist, so the sign-in is refused and
the audit log says so. Failed sign-ins are counted per session and per client address.

Who may add or remove: adding or removing a passkey is a sensitive change. A resident needs a
card proof of this session not older than ``STEP_UP_MINUTES``; an invited official (who has no
card sign-in) is let through once by ``allow_registration``, which the invitation calls.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from madoguchi.core import attempts
from madoguchi.core.clock import as_utc, in_japan
from madoguchi.core.errors import MadoguchiError, NotFound
from madoguchi.core.i18n import N_, _
from madoguchi.core.settings import Settings
from madoguchi.identity import audit
from madoguchi.identity.models import Person
from madoguchi.identity.models.passkeys import Passkey
from madoguchi.identity.sessions import visitor

CHALLENGE_KEY = "passkey_challenge"
REGISTRATION_KEY = "passkey_registration_allowed"
FAILURES_KEY = "passkey_failures"
CHALLENGE_LIFETIME = dt.timedelta(minutes=5)
STEP_UP_MINUTES = 10
FAILURE_WINDOW = dt.timedelta(minutes=10)
FAILURES_PER_SESSION = 10
# Many residents may share one address (a library, a help desk, a mobile carrier's NAT).
FAILURES_PER_ADDRESS = 30
TIMEOUT_MS = 5 * 60 * 1000
NAME_LENGTH = 100
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
REGISTER, SIGN_IN = "register", "sign-in"


class PasskeyRefused(MadoguchiError):
    code = "passkey-refused"
    status = 400
    title = N_("The passkey was not accepted")


class TooManyPasskeyAttempts(MadoguchiError):
    code = "too-many-passkey-attempts"
    status = 429
    title = N_("Too many attempts")


class CardSignInNeeded(MadoguchiError):
    """A resident adds a passkey only in a session proven by the card (recently)."""

    code = "card-sign-in-needed"
    status = 403
    title = N_("Sign in with your My Number card first")


EXPIRED = N_("The passkey request has expired or was already used. Try again.")
UNKNOWN = N_(
    "This passkey is not registered on this site. Sign in another way, or use another passkey."
)
CLONED = N_(
    "This passkey was refused because a copy of it seems to be in use elsewhere. Sign in with "
    "your My Number card and remove this passkey."
)
MALFORMED = N_("The passkey answer could not be read. Try again.")
NOT_VERIFIED = N_(
    "The passkey could not be verified for this site. Try again, or sign in another way."
)


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host: a passkey works only on this site and its subdomains' parent
    origin: str  # scheme://host[:port], as the browser reports it in clientDataJSON
    name: str


def relying_party(settings: Settings) -> RelyingParty:
    url = urlsplit(settings.resolved_public_url())
    host = (url.hostname or "localhost").lower()
    return RelyingParty(id=host, origin=f"{url.scheme}://{url.netloc.lower()}", name="madoguchi")


# --- Who may add or remove ---------------------------------------------------------------


def allow_registration(request: HTTPConnection) -> None:
    """Let this session add one passkey without a card sign-in: an invited official accepting
    the invitation, whose passkey is then their main factor."""
    request.session[REGISTRATION_KEY] = True


def registration_allowed(request: HTTPConnection) -> bool:
    return request.session.get(REGISTRATION_KEY) is True


def card_proof_state(request: HTTPConnection, now: dt.datetime) -> str:
    """ "fresh", "stale" (proven by the card, but too long ago) or "none" (not in this session)."""
    proven = visitor(request).card_proven_at
    if proven is None:
        return "none"
    fresh = now - as_utc(proven) <= dt.timedelta(minutes=STEP_UP_MINUTES)
    return "fresh" if fresh else "stale"


def may_change_passkeys(request: HTTPConnection, now: dt.datetime) -> bool:
    return registration_allowed(request) or card_proof_state(request, now) == "fresh"


def check_may_change(request: HTTPConnection, now: dt.datetime) -> None:
    if may_change_passkeys(request, now):
        return
    if card_proof_state(request, now) == "none":
        raise CardSignInNeeded(
            N_("To add or remove a passkey, first sign in with your My Number card.")
        )
    raise CardSignInNeeded(
        N_(
            "Adding or removing a passkey is a sensitive change: confirm it is you with your "
            "My Number card again (your last card sign-in was more than {minutes} minutes ago)."
        ),
        minutes=STEP_UP_MINUTES,
    )


# --- Challenges: in the session, one at a time, single use -------------------------------


def _remember_challenge(
    request: HTTPConnection, purpose: str, challenge: bytes, now: dt.datetime
) -> None:
    request.session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "value": _b64(challenge),
        "person": str(visitor(request).person_id),
        "expires": (now + CHALLENGE_LIFETIME).isoformat(),
    }


def _take_challenge(request: HTTPConnection, purpose: str, now: dt.datetime) -> bytes:
    """The challenge issued for ``purpose``, removed from the session: it is never used twice."""
    stored = request.session.pop(CHALLENGE_KEY, None)
    if not isinstance(stored, dict) or stored.get("purpose") != purpose:
        raise PasskeyRefused(EXPIRED)
    if dt.datetime.fromisoformat(stored["expires"]) <= now:
        raise PasskeyRefused(EXPIRED)
    if purpose == REGISTER and stored.get("person") != str(visitor(request).person_id):
        raise PasskeyRefused(EXPIRED)  # issued before a sign-in as somebody else
    return _unb64(stored["value"])


# --- Adding --------------------------------------------------------------------------------


async def list_passkeys(db: AsyncSession, person_id: uuid.UUID) -> list[Passkey]:
    rows = await db.scalars(
        select(Passkey).where(Passkey.person_id == person_id).order_by(Passkey.created_at)
    )
    return list(rows)


async def registration_options(
    db: AsyncSession, request: HTTPConnection, person: Person, rp: RelyingParty, now: dt.datetime
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (JSON) for a new passkey of ``person``."""
    existing = await list_passkeys(db, person.id)
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=person.id.bytes,  # the user handle: opaque, no personal data
        user_name=person.email or person.display_name or person.name or str(person.id),
        user_display_name=person.display_name or person.name or person.email or "",
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in existing],
        supported_pub_key_algs=ALGORITHMS,
    )
    _remember_challenge(request, REGISTER, options.challenge, now)
    return _as_json(webauthn.options_to_json(options))


async def add_passkey(
    db: AsyncSession,
    request: HTTPConnection,
    person: Person,
    credential: dict[str, Any],
    name: str,
    rp: RelyingParty,
    now: dt.datetime,
) -> Passkey:
    """Verify the authenticator's registration response and keep the passkey."""
    challenge = _take_challenge(request, REGISTER, now)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
    except WebAuthnException as error:
        raise PasskeyRefused(NOT_VERIFIED) from error
    if await db.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise PasskeyRefused(N_("This passkey has already been added."))
    passkey = Passkey(
        credential_id=verified.credential_id,
        person_id=person.id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
        aaguid=verified.aaguid,
        name=name.strip()[:NAME_LENGTH] or default_name(now),
        card_bound=person.card_proven_at is not None,
        created_at=now,
    )
    db.add(passkey)
    await db.flush()
    request.session.pop(REGISTRATION_KEY, None)
    await _audit(db, person.id, "passkey.added", passkey, card_bound=passkey.card_bound)
    return passkey


def default_name(now: dt.datetime) -> str:
    return _("Passkey added on {date}", date=in_japan(now).strftime("%Y-%m-%d"))


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports if _known_transport(t)]
    return PublicKeyCredentialDescriptor(id=passkey.credential_id, transports=transports or None)


def _known_transport(value: object) -> bool:
    return value in {transport.value for transport in AuthenticatorTransport}


def _transports(credential: dict[str, Any]) -> list[str]:
    response = credential.get("response")
    given = response.get("transports") if isinstance(response, dict) else None
    return [t for t in given if _known_transport(t)] if isinstance(given, list) else []


# --- Removing ------------------------------------------------------------------------------


async def remove_passkey(db: AsyncSession, person_id: uuid.UUID, passkey_id: uuid.UUID) -> None:
    """Remove one of the person's own passkeys; another person's is not found."""
    passkey = await db.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.person_id == person_id)
    )
    if passkey is None:
        raise NotFound(N_("This passkey was not found among yours."))
    await _audit(db, person_id, "passkey.removed", passkey)
    await db.delete(passkey)


# --- Signing in ----------------------------------------------------------------------------


def authentication_options(
    request: HTTPConnection, rp: RelyingParty, now: dt.datetime
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions (JSON): no credentials listed, the authenticator offers
    the passkeys it keeps for this site."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, timeout=TIMEOUT_MS, user_verification=UserVerificationRequirement.REQUIRED
    )
    _remember_challenge(request, SIGN_IN, options.challenge, now)
    return _as_json(webauthn.options_to_json(options))


async def check_assertion(
    db: AsyncSession,
    request: HTTPConnection,
    credential: dict[str, Any],
    rp: RelyingParty,
    now: dt.datetime,
) -> Passkey:
    """The passkey that signed this assertion, after every check; raises PasskeyRefused."""
    challenge = _take_challenge(request, SIGN_IN, now)
    passkey = await _passkey_of(db, credential)
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            # The counter is checked below, once the signature is known to be genuine.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        raise PasskeyRefused(NOT_VERIFIED) from error
    await _check_counter(db, passkey, verified.new_sign_count)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    return passkey


async def _passkey_of(db: AsyncSession, credential: dict[str, Any]) -> Passkey:
    try:
        credential_id = _unb64(str(credential["rawId"]))
        handle = credential["response"].get("userHandle")
        user_handle = _unb64(str(handle)) if handle else None
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise PasskeyRefused(MALFORMED) from error
    passkey = await db.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    if passkey is None:
        raise PasskeyRefused(UNKNOWN)
    # A discoverable credential names its account; it must be the one the passkey was added to.
    if user_handle is not None and user_handle != passkey.person_id.bytes:
        raise PasskeyRefused(UNKNOWN)
    return passkey


async def _check_counter(db: AsyncSession, passkey: Passkey, new_count: int) -> None:
    if (new_count > 0 or passkey.sign_count > 0) and new_count <= passkey.sign_count:
        await _audit(
            db,
            passkey.person_id,
            "passkey.clone_suspected",
            passkey,
            stored_count=passkey.sign_count,
            presented_count=new_count,
        )
        raise PasskeyRefused(CLONED)


# --- Rate limit on failed sign-ins ---------------------------------------------------------


async def check_attempts(db: AsyncSession, request: HTTPConnection, now: dt.datetime) -> None:
    """Refuse once this session or this address failed too often in the last ten minutes."""
    session_limit = attempts.Limit("passkey-session", FAILURES_PER_SESSION, FAILURE_WINDOW)
    address_limit = attempts.Limit("passkey-address", FAILURES_PER_ADDRESS, FAILURE_WINDOW)
    address = attempts.client_address(request)
    if len(_recent_session_failures(request, now)) >= FAILURES_PER_SESSION or (
        await attempts.used_up(db, address_limit, address, now)
    ):
        raise TooManyPasskeyAttempts(
            N_(
                "Too many passkey sign-ins failed from here. Wait {minutes} minutes and try "
                "again, or sign in with your My Number card or your email address."
            ),
            minutes=session_limit.minutes,
        )


async def note_failure(db: AsyncSession, request: HTTPConnection, now: dt.datetime) -> None:
    """Count a refused sign-in against this session (kept in it: it has no id of its own
    before sign-in, and its token changes) and against the client's address (in the database,
    so that dropping the cookie does not start over)."""
    request.session[FAILURES_KEY] = [*_recent_session_failures(request, now), now.isoformat()]
    address_limit = attempts.Limit("passkey-address", FAILURES_PER_ADDRESS, FAILURE_WINDOW)
    await attempts.note(db, address_limit, attempts.client_address(request), now)


def _recent_session_failures(request: HTTPConnection, now: dt.datetime) -> list[str]:
    stored = request.session.get(FAILURES_KEY)
    moments = stored if isinstance(stored, list) else []
    return [m for m in moments if dt.datetime.fromisoformat(m) > now - FAILURE_WINDOW]


# --- Shared --------------------------------------------------------------------------------


async def _audit(
    db: AsyncSession, person_id: uuid.UUID, action: str, passkey: Passkey, **details: Any
) -> None:
    await audit.append(
        db,
        actor=f"person:{person_id}",
        action=action,
        subject=f"passkey:{passkey.id}",
        details={"name": passkey.name, "aaguid": passkey.aaguid, **details},
    )


def _as_json(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
