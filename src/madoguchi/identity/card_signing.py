"""madoguchi asking the card's signing service for a resident's signature.

The flow is the card sign-in's (``card_oidc``), shaped as OpenID's code flow: the browser is
sent to the provider's ``/sign`` with the SHA-256 of the bytes to sign, a state and a line saying
what is signed; the holder signs there with the card's signature password; the provider sends
the browser back to ``SIGN_CALLBACK_PATH`` with a one-time code, which is exchanged here, with
the client secret, for the detached CAdES signature. The provider never sees the document: only
its digest. ``check_signer`` says whether the certificate that signed is the signed-in
person's: the four attributes it states (laid out as the simulator's certificates lay them
out) against those their card sign-in proved. For the built-in simulator the exchange goes to
this very application in process (``httpx2.ASGITransport``), as card sign-in does. Checking the
signature itself is the caller's job (``signatures.service.verify_detached``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from urllib.parse import urlencode

import httpx2
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_, _
from madoguchi.identity.card_oidc import SIMULATOR_PATH, TIMEOUT, CardProvider
from madoguchi.identity.card_simulator.certificates import CertificateRefused, Holder, holder_of
from madoguchi.identity.people import get_person

SIGN_CALLBACK_PATH = "/signing/card/callback"
SIGN_PATH = "/sign"
TOKEN_PATH = "/sign/token"  # noqa: S105  (a path, not a token)
WIRE_FORMAT = "cades-detached"  # what the provider answers: DER CMS, detached, base64


class CardSigningFailed(MadoguchiError):
    code = "card-signing-failed"
    status = 400
    title = N_("Signing with the card did not work")


SIGNING_FAILED = N_(
    "The card's signing service did not give a signature we could read, so nothing was "
    "signed. Your answers are kept: try signing again."
)


def signing_url(
    provider: CardProvider, base_url: str, *, payload: bytes, state: str, purpose: str
) -> str:
    """Where to send the browser to sign ``payload`` (only its SHA-256 goes)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(payload).digest()).rstrip(b"=").decode()
    params = {
        "client_id": provider.client_id,
        "redirect_uri": base_url.rstrip("/") + SIGN_CALLBACK_PATH,
        "state": state,
        "digest": digest,
        "purpose": purpose,
    }
    return f"{_service(provider, base_url)}{SIGN_PATH}?{urlencode(params)}"


async def exchange_signature_code(
    provider: CardProvider, app: ASGIApp, base_url: str, code: str
) -> bytes:
    """The DER signature the provider kept under ``code`` (which works once, there)."""
    form = {"code": code, "redirect_uri": base_url.rstrip("/") + SIGN_CALLBACK_PATH}
    auth = httpx2.BasicAuth(provider.client_id, provider.client_secret)
    try:
        async with _client(provider, app, base_url) as client:
            response = await client.post(
                _service(provider, base_url) + TOKEN_PATH, data=form, auth=auth
            )
        response.raise_for_status()
        body = response.json()
    except (httpx2.HTTPError, ValueError):
        raise CardSigningFailed(SIGNING_FAILED) from None
    return _signature_of(body)


def _signature_of(body: object) -> bytes:
    if not isinstance(body, dict) or body.get("format") != WIRE_FORMAT:
        raise CardSigningFailed(SIGNING_FAILED)
    try:
        return base64.b64decode(str(body.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise CardSigningFailed(SIGNING_FAILED) from None


def _service(provider: CardProvider, base_url: str) -> str:
    """The simulator is asked at this application's own address, whatever its issuer says."""
    if provider.built_in:
        return base_url.rstrip("/") + SIMULATOR_PATH
    return provider.issuer.rstrip("/")


def _client(provider: CardProvider, app: ASGIApp, base_url: str) -> httpx2.AsyncClient:
    if provider.built_in:
        return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=base_url)
    return httpx2.AsyncClient(timeout=TIMEOUT)


SIGNER_MISMATCH = N_(
    "The card that signed is not the card of the person signed in: its {attribute} differs "
    "from what your card sign-in proved. Sign with your own card, or sign in again with the "
    "card you signed with."
)
NO_ATTRIBUTES = N_(
    "The signature's certificate does not state its holder's name, address, date of birth "
    "and sex, so it cannot show who signed."
)
NOT_PROVEN = N_(
    "Your card sign-in did not prove your name, address, date of birth and sex, which a "
    "signature is checked against. Sign in with your card again, giving your signature "
    "password."
)
GENDERS = {"1": "male", "2": "female"}  # ISO/IEC 5218 as OpenID writes it; else "other"


async def check_signer(
    db: AsyncSession, person_id: uuid.UUID, certificate: x509.Certificate
) -> Holder:
    """The holder the signature certificate names, when it is the signed-in person: its four
    attributes must equal the ones their card sign-in proved."""
    try:
        holder = holder_of(certificate)
    except CertificateRefused:
        raise CardSigningFailed(NO_ATTRIBUTES) from None
    person = await get_person(db, person_id)
    if person is None or person.attributes_verified_at is None:
        raise CardSigningFailed(NOT_PROVEN)
    stated = {
        N_("name"): (holder.name, person.name),
        N_("address"): (holder.address, person.address),
        N_("date of birth"): (holder.birthdate, person.birthdate),
        N_("sex"): (GENDERS.get(holder.sex, "other"), person.gender),
    }
    for attribute, (signed, proven) in stated.items():
        if signed != proven:
            raise CardSigningFailed(SIGNER_MISMATCH, attribute=_(attribute))
    return holder


def signer_name(certificate: x509.Certificate) -> str | None:
    """The holder's name as the signature certificate states it."""
    try:
        return holder_of(certificate).name
    except CertificateRefused:
        return None
