"""The simulator's signing routes: the page where the holder signs with the card's signature
password (``/card-simulator/sign``), and where the relying party collects the signature
(``/card-simulator/sign/token``). The protocol is in ``signing``.

As on the sign-in page, a wrong password is answered with the form again saying how many tries
are left, and the try is counted in the same transaction (the page is an answer, so it commits);
the fifth wrong try locks the password for good.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import MadoguchiError
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import N_
from madoguchi.core.sessions import check_csrf
from madoguchi.core.templating import render
from madoguchi.identity.card_simulator import limits, provider
from madoguchi.identity.card_simulator.cards import find_card, open_signature_key
from madoguchi.identity.card_simulator.chip import CertificateLocked, parse_password
from madoguchi.identity.card_simulator.common import (
    base_url,
    client_address,
    noted_failure,
    now,
    require_simulator,
    settings_of,
)
from madoguchi.identity.card_simulator.provider import TokenError
from madoguchi.identity.card_simulator.signing import (
    SignRequest,
    SignRequestError,
    create_signature_code,
    exchange_signature_code,
    parse_sign_request,
    sign_digest,
)

router = APIRouter(
    prefix="/card-simulator", include_in_schema=False, dependencies=[Depends(require_simulator)]
)
NOT_STORED = {"Cache-Control": "no-store", "Pragma": "no-cache"}
LOCKED_ERROR = "card_locked"


class SignRequestRefused(MadoguchiError):
    code = "card-simulator-sign-request-refused"
    status = 400
    title = N_("The signing request is not valid")


@router.get("/sign", response_class=HTMLResponse)
async def sign_page(request: Request) -> Response:
    sign = _sign_request(request, dict(request.query_params))
    if isinstance(sign, Response):
        return sign
    return _signing_page(request, sign, FormErrors())


@router.post("/sign", response_class=HTMLResponse)
async def sign(request: Request, session: Session) -> Response:
    form = {name: str(value) for name, value in (await request.form()).items()}
    check_csrf(request, form)
    sign = _sign_request(request, form)
    if isinstance(sign, Response):
        return sign
    if form.get("action") in ("cancel", LOCKED_ERROR):
        error = "access_denied" if form["action"] == "cancel" else LOCKED_ERROR
        return RedirectResponse(sign.answer(error=error), status_code=303)
    await limits.count_try(session, "sign", client_address(request), now())
    return await _sign_and_answer(request, session, sign, form)


async def _sign_and_answer(
    request: Request, session: AsyncSession, sign: SignRequest, form: dict[str, str]
) -> Response:
    errors = FormErrors()
    card = await noted_failure(errors, find_card(session, form.get("card_number", "")))
    password = errors.attempt(lambda: parse_password(form.get("password", "")))
    if card is None or password is None:
        return _signing_page(request, sign, errors, form, status=422)
    moment = now()
    try:
        opened = await open_signature_key(session, settings_of(request), card, password, moment)
    except CertificateLocked as error:
        errors.items.append(FormError.of(error))
        return _signing_page(request, sign, errors, form, status=403, locked=True)
    except MadoguchiError as error:  # a wrong password, or a certificate refused or revoked
        errors.items.append(FormError.of(error))
        return _signing_page(request, sign, errors, form, status=error.status)
    signature = await sign_digest(sign.digest, opened, card.card_number, moment)
    code = await create_signature_code(session, card, sign, signature, moment)
    return RedirectResponse(sign.answer(code=code), status_code=303)


def _sign_request(request: Request, params: dict[str, str]) -> SignRequest | Response:
    """The request, or where its refusal goes: back to a known client, else shown here."""
    try:
        return parse_sign_request(params, settings_of(request), base_url(request))
    except SignRequestError as error:
        if error.back_to is None:
            raise SignRequestRefused(
                N_("The service that sent you here is not known to the card simulator.")
            ) from None
        answer = error.back_to.answer(error=error.error, error_description=error.description)
        return RedirectResponse(answer, status_code=303)


def _signing_page(
    request: Request,
    sign: SignRequest,
    errors: FormErrors,
    form: dict[str, str] | None = None,
    *,
    status: int = 200,
    locked: bool = False,
) -> HTMLResponse:
    html = render(
        "card_simulator/sign.html",
        request=request,
        sign=sign,
        errors=errors,
        card_number=(form or {}).get("card_number", ""),
        locked=locked,
    )
    return HTMLResponse(html, status_code=status, headers=NOT_STORED)


@router.post("/sign/token")
async def sign_token(request: Request, session: Session) -> JSONResponse:
    """The signature for a code, once, to the client that asked (its secret, as at /token)."""
    settings = settings_of(request)
    form = {name: str(value) for name, value in (await request.form()).items()}
    try:
        client_id = provider.authenticate_client(
            request.headers.get("authorization"), form, settings
        )
        body = await exchange_signature_code(session, form, client_id, now())
    except TokenError as error:
        headers = dict(NOT_STORED)
        if error.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="card-simulator"'
        refusal = {"error": error.error, "error_description": error.description}
        return JSONResponse(refusal, status_code=error.status, headers=headers)
    return JSONResponse(body, headers=NOT_STORED)
