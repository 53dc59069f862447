"""The simulator's OpenID Connect endpoints, for the relying party (JSON, no pages, no cookies
needed): discovery, the JWK Set of the ID-token key, and the token endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from madoguchi.core.dependencies import Session
from madoguchi.identity.card_simulator import provider
from madoguchi.identity.card_simulator.authority import load_authority
from madoguchi.identity.card_simulator.common import base_url, now, require_simulator, settings_of
from madoguchi.identity.card_simulator.provider import TokenError

router = APIRouter(
    prefix="/card-simulator", include_in_schema=False, dependencies=[Depends(require_simulator)]
)
NOT_STORED = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(provider.metadata(settings_of(request), base_url(request)))


@router.get("/jwks")
async def jwks(request: Request, session: Session) -> JSONResponse:
    return JSONResponse(provider.jwks(await load_authority(session, settings_of(request))))


@router.post("/token")
async def token(request: Request, session: Session) -> JSONResponse:
    """RFC 6749 §4.1.3 with PKCE; errors as §5.2 says. A code refused for any reason after it
    was found stays used: it never works twice."""
    settings = settings_of(request)
    form = {name: str(value) for name, value in (await request.form()).items()}
    try:
        client_id = provider.authenticate_client(
            request.headers.get("authorization"), form, settings
        )
        authority = await load_authority(session, settings)
        body = await provider.exchange_code(session, form, client_id, authority, settings, now())
    except TokenError as error:
        headers = dict(NOT_STORED)
        if error.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="card-simulator"'
        refusal = {"error": error.error, "error_description": error.description}
        return JSONResponse(refusal, status_code=error.status, headers=headers)
    return JSONResponse(body, headers=NOT_STORED)
