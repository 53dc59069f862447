"""The signing step of a journey whose procedure asks for a card signature.

``POST …/drafts/{draft_id}/sign`` (from the page that explains signing) builds the payload of
the answers, keeps its digest in this browser's server-side session under a fresh state, and
sends the browser to the card's signing service; ``GET /signing/card/callback`` comes back with
a one-time code. There the code is exchanged for the signature, the payload is rebuilt from the
draft (it must be what was signed: answers changed in another tab are refused), the signature
is checked (``signing``) and the draft is submitted with it. Every failure, and a cancel at the
card reader, lands on check-your-answers with a message; the draft stays as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError, NotFound
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_, _
from madoguchi.core.sessions import check_csrf
from madoguchi.core.settings import Settings
from madoguchi.identity.card_oidc import CardProvider, card_provider
from madoguchi.identity.card_signing import (
    SIGN_CALLBACK_PATH,
    exchange_signature_code,
    signing_url,
)
from madoguchi.identity.sessions import visitor
from madoguchi.procedures.validation import Accepted
from madoguchi.submissions.journey_finish import DECLARATION, checked_answers, complete, show_check
from madoguchi.submissions.journey_state import Journey, load_journey
from madoguchi.submissions.sign_in_gate import sign_in_needed
from madoguchi.submissions.signing import check_signature, payload_of

router = APIRouter(include_in_schema=False)

DRAFT = "/bodies/{code}/procedures/{slug}/drafts/{draft_id}"
PENDING_KEY = "card_signing"  # in request.session: state -> the draft and the digest signed
PENDING_MOST = 3
PENDING_FOR = dt.timedelta(minutes=15)

CANCELLED = N_("You did not sign, so nothing was sent. Your answers are kept here.")
LOCKED = N_(
    "Your card's signature password is locked, so it could not sign. Nothing was sent; your "
    "answers are kept here."
)
CHANGED = N_(
    "Your answers changed after you started signing, so the signature is not for these "
    "answers. Nothing was sent: check them and sign again."
)
NO_SERVICE = N_("This site has no card signing service configured, so this cannot be signed.")
EXPIRED = N_("This signing request has expired or was already used. Start again from your draft.")


@router.post(DRAFT + "/sign")
async def start_signing(
    request: Request, code: str, slug: str, draft_id: str, session: Session
) -> Response:
    async with request.form() as form:
        check_csrf(request, form)
        journey = await load_journey(request, session, code, slug, draft_id)
        return await _start(journey, form)


async def _start(journey: Journey, form: FormData) -> Response:
    needed = sign_in_needed(journey.request, journey.definition, journey.check_url)
    if needed is not None:
        return needed
    checked = await checked_answers(journey, form)
    if isinstance(checked, Response):
        return checked
    provider = card_provider(_settings(journey.request))
    if provider is None:
        return _back(journey, NO_SERVICE)
    payload = _payload(journey, checked)
    state = secrets.token_urlsafe(24)
    _remember(journey, state, hashlib.sha256(payload).hexdigest())
    purpose = _(
        "Submit “{title}” to {body}", title=str(journey.definition.title), body=journey.tenant.name
    )
    url = signing_url(
        provider, _base(journey.request, provider), payload=payload, state=state, purpose=purpose
    )
    return RedirectResponse(url, status_code=303)


@router.get(SIGN_CALLBACK_PATH)
async def signed(request: Request, session: Session) -> Response:
    pending = _take(request, request.query_params.get("state", ""))
    if pending is None:
        raise NotFound(EXPIRED)
    journey = await load_journey(
        request, session, pending["code"], pending["slug"], pending["draft"]
    )
    needed = sign_in_needed(request, journey.definition, journey.check_url)
    if needed is not None:
        return needed
    error = request.query_params.get("error")
    if error is not None:
        return _back(journey, LOCKED if error == "card_locked" else CANCELLED)
    return await _finish(journey, pending["digest"], request.query_params.get("code", ""))


async def _finish(journey: Journey, digest: str, code: str) -> Response:
    checked = await checked_answers(journey, FormData({DECLARATION: "yes"}))
    if isinstance(checked, Response):
        return checked  # submitted meanwhile, closed, or a page no longer done
    payload = _payload(journey, checked)
    if hashlib.sha256(payload).hexdigest() != digest:
        return _back(journey, CHANGED)
    request, person_id = journey.request, visitor(journey.request).person_id
    provider = card_provider(_settings(request))
    if provider is None or person_id is None:
        return _back(journey, NO_SERVICE)
    try:
        der = await exchange_signature_code(provider, request.app, _base(request, provider), code)
        signature = await check_signature(
            journey.session, _settings(request), payload, der, person_id
        )
    except MadoguchiError as refused:
        return _back(journey, refused.message, **refused.params)
    return await complete(journey, checked, signature)


def _payload(journey: Journey, accepted: Accepted) -> bytes:
    return payload_of(
        journey.tenant.code, journey.procedure.id, journey.content.version, accepted.answers
    )


def _back(journey: Journey, message: str, **params: Any) -> Response:
    errors = FormErrors([FormError(_(message, **params), None, None)])
    return show_check(journey, errors, status=422)


def _remember(journey: Journey, state: str, digest: str) -> None:
    pending = _pending(journey.request)
    newest = sorted(pending.items(), key=lambda item: str(item[1].get("started")))
    kept = dict(newest[-(PENDING_MOST - 1) :]) if PENDING_MOST > 1 else {}
    kept[state] = {
        "code": journey.tenant.code,
        "slug": journey.procedure.slug,
        "draft": str(journey.draft.id),
        "digest": digest,
        "started": dt.datetime.now(dt.UTC).isoformat(),
    }
    journey.request.session[PENDING_KEY] = kept


def _take(request: Request, state: str) -> dict[str, Any] | None:
    """The pending request for ``state``, taken out: a state works once, for a while."""
    pending = _pending(request)
    taken = pending.pop(state, None) if state else None
    request.session[PENDING_KEY] = pending
    if not isinstance(taken, dict):
        return None
    started = dt.datetime.fromisoformat(str(taken.get("started")))
    return taken if dt.datetime.now(dt.UTC) - started <= PENDING_FOR else None


def _pending(request: Request) -> dict[str, Any]:
    stored = request.session.get(PENDING_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _base(request: Request, provider: CardProvider) -> str:
    """The simulator is this application, reached as the browser reached it; a real service
    sends the browser back to the platform's public address."""
    if provider.built_in:
        return str(request.base_url).rstrip("/")
    return _settings(request).resolved_public_url()
