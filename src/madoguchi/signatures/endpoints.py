"""The PKI's public routes, for anyone and any tool that checks a signature:

- ``GET /pki/{name}.crt``: an authority's certificate (DER), as named in the authority
  information access of what it issued;
- ``GET /pki/{name}.crl``: its current CRL (DER), as named in the CRL distribution points;
- ``POST /pki/timestamp``: the RFC 3161 timestamp authority (``application/timestamp-query``
  in, ``application/timestamp-reply`` out).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from cryptography.hazmat.primitives import serialization

from madoguchi.core.dependencies import AppSettings, Session
from madoguchi.core.errors import NotFound
from madoguchi.signatures.pki.authorities import load_authority
from madoguchi.signatures.pki.profiles import CaName
from madoguchi.signatures.pki.revocation import crl_der

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


def _authority(name: str, *, allow_tsa: bool = False) -> CaName:
    if allow_tsa and name == CaName.TSA.value:
        return CaName.TSA
    if name not in AUTHORITIES:
        raise NotFound(UNKNOWN)
    return AUTHORITIES[name]


def _cacheable(seconds: int) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={seconds}" if seconds else "no-cache"}
