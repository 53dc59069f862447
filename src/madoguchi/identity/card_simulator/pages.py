"""The simulator's pages: the card reader's sign-in page (the authorization endpoint), and
getting a new virtual card. Every page carries a banner: this is not a real card.

A wrong PIN or password is answered with the form again, saying how many tries are left; the
try is counted in the same transaction (the page is an answer, not an error, so it commits).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.card_simulator import limits
from madoguchi.identity.card_simulator.cards import find_card, issue_card, read_card
from madoguchi.identity.card_simulator.chip import (
    CertificateLocked,
    parse_password,
    parse_pin,
)
from madoguchi.identity.card_simulator.common import (
    base_url,
    client_address,
    noted_failure,
    now,
    require_simulator,
    settings_of,
)
from madoguchi.identity.card_simulator.provider import (
    AuthorizationError,
    AuthorizationRequest,
    create_code,
    parse_authorization_request,
)
from madoguchi.identity.card_simulator.residents import synthetic_resident

router = APIRouter(
    prefix="/card-simulator", include_in_schema=False, dependencies=[Depends(require_simulator)]
)
NOT_STORED = {"Cache-Control": "no-store"}
LOCKED_ERROR = "card_locked"  # the simulator's own error code, beside RFC 6749's


class RequestRefused(MadoguchiError):
    code = "card-simulator-request-refused"
    status = 400
    title = N_("The sign-in request is not valid")


@router.get("", include_in_schema=False)
async def simulator_home() -> RedirectResponse:
    return RedirectResponse("/card-simulator/cards/new", status_code=303)


@router.get("/authorize", response_class=HTMLResponse)
async def authorize_page(request: Request) -> Response:
    auth = _authorization_request(request, dict(request.query_params))
    if isinstance(auth, Response):
        return auth
    return _reader_page(request, auth, FormErrors())


@router.post("/authorize", response_class=HTMLResponse)
async def authorize(request: Request, session: Session) -> Response:
    form = {name: str(value) for name, value in (await request.form()).items()}
    check_csrf(request, form)
    auth = _authorization_request(request, form)
    if isinstance(auth, Response):
        return auth
    if form.get("action") in ("cancel", LOCKED_ERROR):
        error = "access_denied" if form["action"] == "cancel" else LOCKED_ERROR
        return RedirectResponse(auth.answer(error=error), status_code=303)
    await limits.count_try(session, "authorize", client_address(request), now())
    return await _read_and_answer(request, session, auth, form)


async def _read_and_answer(
    request: Request, session: AsyncSession, auth: AuthorizationRequest, form: dict[str, str]
) -> Response:
    errors = FormErrors()
    card = await noted_failure(errors, find_card(session, form.get("card_number", "")))
    pin = errors.attempt(lambda: parse_pin(form.get("pin", "")))
    password = None
    if auth.wants_attributes:
        password = errors.attempt(lambda: parse_password(form.get("password", "")))
    if card is None or pin is None or (auth.wants_attributes and password is None):
        return _reader_page(request, auth, errors, form, status=422)
    try:
        holder = await read_card(session, settings_of(request), card, pin, password, now())
    except CertificateLocked as error:
        errors.items.append(FormError.of(error))
        return _reader_page(request, auth, errors, form, status=403, locked=True)
    except MadoguchiError as error:  # a wrong secret, or a card the authority refuses
        errors.items.append(FormError.of(error))
        return _reader_page(request, auth, errors, form, status=error.status)
    code = await create_code(session, card, auth, holder is not None, now())
    return RedirectResponse(auth.answer(code=code), status_code=303)


def _authorization_request(
    request: Request, params: dict[str, str]
) -> AuthorizationRequest | Response:
    """The request, or where to send its refusal: back to the client when it can be trusted
    with it, and otherwise an error here (never a redirect to an unknown address)."""
    try:
        return parse_authorization_request(params, settings_of(request), base_url(request))
    except AuthorizationError as error:
        if error.back_to is None:
            raise RequestRefused(
                N_("The service that sent you here is not known to the card simulator.")
            ) from None
        answer = error.back_to.answer(error=error.error, error_description=error.description)
        return RedirectResponse(answer, status_code=303)


def _reader_page(
    request: Request,
    auth: AuthorizationRequest,
    errors: FormErrors,
    form: dict[str, str] | None = None,
    *,
    status: int = 200,
    locked: bool = False,
) -> HTMLResponse:
    html = render(
        "card_simulator/authorize.html",
        request=request,
        auth=auth,
        errors=errors,
        card_number=(form or {}).get("card_number", ""),
        locked=locked,
    )
    return HTMLResponse(html, status_code=status, headers=NOT_STORED)


@router.get("/cards/new", response_class=HTMLResponse)
async def new_card_page(request: Request) -> HTMLResponse:
    return _new_card_page(request, FormErrors(), {})


@router.post("/cards/new", response_class=HTMLResponse)
async def new_card(request: Request, session: Session) -> HTMLResponse:
    form = {name: str(value) for name, value in (await request.form()).items()}
    check_csrf(request, form)
    errors = FormErrors()
    pin = errors.attempt(lambda: parse_pin(form["pin"])) if form.get("pin") else None
    typed = form.get("password")
    password = errors.attempt(lambda: parse_password(typed or "")) if typed else None
    if errors.items:
        return _new_card_page(request, errors, form, status=422)
    await limits.count_try(session, "issue", client_address(request), now())
    settings = settings_of(request)
    issued = await issue_card(session, settings, synthetic_resident(), pin=pin, password=password)
    html = render("card_simulator/issued.html", request=request, card=issued)
    return HTMLResponse(html, headers=NOT_STORED)


def _new_card_page(
    request: Request, errors: FormErrors, form: dict[str, str], status: int = 200
) -> HTMLResponse:
    html = render("card_simulator/new_card.html", request=request, errors=errors, form=form)
    return HTMLResponse(html, status_code=status)
