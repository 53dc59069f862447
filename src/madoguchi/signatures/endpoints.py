"""The PKI's public routes, for anyone and any tool that checks a signature:

- ``GET /pki/{name}.crt``: an authority's certificate (DER), as named in the authority
  information access of what it issued;
- ``GET /pki/{name}.crl``: its current CRL (DER), as named in the CRL distribution points;
- ``POST /pki/timestamp``: the RFC 3161 timestamp authority (``application/timestamp-query``
  in, ``application/timestamp-reply`` out).
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Request
from fastapi.responses import Response

from madoguchi.core.dependencies import AppSettings, Session
from madoguchi.core.errors import NotFound
from madoguchi.signatures.pki.authorities import load_authority
from madoguchi.signatures.pki.profiles import CaName
from madoguchi.signatures.pki.revocation import crl_der
from madoguchi.signatures.sealing import timestamp_authority
from madoguchi.signatures.timestamps import (
    MAX_REQUEST_BYTES,
    RESPONSE_MEDIA_TYPE,
    answer,
    random_serial,
)

router = APIRouter(include_in_schema=False)
AUTHORITIES = {name.value: name for name in CaName if name is not CaName.TSA}
UNKNOWN = "There is no certificate authority of that name here."


@router.get("/pki/{name}.crt")
async def certificate(name: str, session: Session, settings: AppSettings) -> Response:
    loaded = await load_authority(session, settings, _authority(name, allow_tsa=True))
    der = loaded.certificate.public_bytes(serialization.Encoding.DER)
    return Response(der, media_type="application/pkix-cert", headers=_cacheable(3600))


@router.get("/pki/{name}.crl")
async def revocation_list(name: str, session: Session, settings: AppSettings) -> Response:
    der = await crl_der(session, settings, _authority(name))
    return Response(der, media_type="application/pkix-crl", headers=_cacheable(0))


@router.post("/pki/timestamp")
async def timestamp(request: Request, session: Session, settings: AppSettings) -> Response:
    """RFC 3161 over HTTP (§3.4). Every request gets a TimeStampResp: a malformed or oversized
    one is answered "rejection" with the reason, as the protocol says, not an HTTP error."""
    body = await _capped_body(request)
    authority = await timestamp_authority(session, settings)
    reply = answer(body, authority, dt.datetime.now(dt.UTC), random_serial())
    return Response(reply, media_type=RESPONSE_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


async def _capped_body(request: Request) -> bytes:
    """At most one byte more than a request may have: enough for ``answer`` to refuse it,
    without reading an unbounded body into memory."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            break
    return bytes(body[: MAX_REQUEST_BYTES + 1])


def _authority(name: str, *, allow_tsa: bool = False) -> CaName:
    if allow_tsa and name == CaName.TSA.value:
        return CaName.TSA
    if name not in AUTHORITIES:
        raise NotFound(UNKNOWN)
    return AUTHORITIES[name]


def _cacheable(seconds: int) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={seconds}" if seconds else "no-cache"}
