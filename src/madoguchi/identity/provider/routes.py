"""The provider's machine endpoints: discovery, JWKS, token and userinfo.

Their errors are OAuth's own JSON (RFC 6749 5.2, RFC 6750 3), not problem+json: that is what
every OpenID relying party library understands.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from madoguchi.core.dependencies import Session
from madoguchi.core.settings import Settings
from madoguchi.identity.provider import claims, keys
from madoguchi.identity.provider.clients import (
    ASSERTION_ALGORITHMS,
    ClientAuthenticationFailed,
    authenticate_client,
)
from madoguchi.identity.provider.tokens import (
    InvalidAccessToken,
    Provider,
    TokenRefused,
    do_exchange_code,
    userinfo,
)

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC_FOR_A_WHILE = {"Cache-Control": "public, max-age=300"}
AUTHORIZE_PATH = "/oidc/authorize"
TOKEN_PATH = "/oidc/token"  # noqa: S105  (a path, not a password)
USERINFO_PATH = "/oidc/userinfo"
JWKS_PATH = "/oidc/jwks"


def provider_of(request: Request) -> Provider:
    settings = cast(Settings, request.app.state.settings)
    return Provider(issuer=settings.resolved_public_url(), secret=settings.resolved_secret_key())


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> JSONResponse:
    issuer = provider_of(request).issuer
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "userinfo_endpoint": issuer + USERINFO_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(claims.SUPPORTED_SCOPES),
        "claims_supported": [*claims.CLAIMS_SUPPORTED, *claims.ATTRIBUTE_SCOPES],
        "acr_values_supported": [claims.ACR_LOW, claims.ACR_HIGH],
        "prompt_values_supported": ["none", "consent"],
        "ui_locales_supported": ["ja", "en"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }
    return JSONResponse(document, headers=PUBLIC_FOR_A_WHILE)


@router.get(JWKS_PATH)
async def jwks(request: Request, session: Session) -> JSONResponse:
    published = await keys.published_keys(session)
    if not published["keys"]:  # a new deployment: the first key is made on first use
        await keys.active_key(session, provider_of(request).secret, _now())
        published = await keys.published_keys(session)
    return JSONResponse(published, headers=PUBLIC_FOR_A_WHILE)


@router.post(TOKEN_PATH)
async def token(request: Request, session: Session) -> JSONResponse:
    form = await request.form()
    provider, now = provider_of(request), _now()
    audiences = {provider.issuer + TOKEN_PATH, provider.issuer}
    try:
        client = await authenticate_client(session, form, audiences, now)
        body = await do_exchange_code(session, provider, client, form, now)
    except ClientAuthenticationFailed as failure:
        return _token_error("invalid_client", str(failure), 401)
    except TokenRefused as refused:
        return _token_error(refused.error, refused.description, refused.status)
    return JSONResponse(body, headers=NO_STORE)


def _token_error(error: str, description: str, status: int) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


@router.api_route(USERINFO_PATH, methods=["GET", "POST"])
async def userinfo_endpoint(request: Request, session: Session) -> JSONResponse:
    scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access_token.strip():
        return _bearer_error("invalid_request", "send the access token as a Bearer token")
    try:
        body = await userinfo(session, provider_of(request), access_token.strip(), _now())
    except InvalidAccessToken as invalid:
        return _bearer_error("invalid_token", str(invalid))
    return JSONResponse(body, headers=NO_STORE)


def _bearer_error(error: str, description: str) -> JSONResponse:
    challenge = f'Bearer error="{error}", error_description="{description}"'
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=401 if error == "invalid_token" else 400,
        headers={**NO_STORE, "WWW-Authenticate": challenge},
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
