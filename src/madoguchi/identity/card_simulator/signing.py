"""The simulator as the card's signing service: its side of a signing request, modelled on
OpenID's code flow.

A relying party (madoguchi itself, ``card_client_id``) sends the browser to ``/sign`` with the
SHA-256 of what is to be signed, never the document: like the real authentication app, the
simulator sees only a digest. The holder gives the card number and the signature password; the
chip's key signs a detached CAdES-BES signature over that digest (a CMS SignedData whose
message-digest attribute is the digest, so it verifies against the document itself), with the
signature certificate and its chain (the residents' authority, then the platform root). The
signature waits under a one-time code, five minutes, kept as its SHA-256, which the relying party
exchanges once at ``/sign/token`` with its client secret, from the same redirect URI.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.card_signing import SIGN_CALLBACK_PATH, WIRE_FORMAT
from madoguchi.identity.card_simulator.cards import OpenedKey
from madoguchi.identity.card_simulator.provider import (
    check_issued_to,
    code_hash,
    spend_code,
)
from madoguchi.identity.models.cards import CardSignatureCode, VirtualCard
from madoguchi.signatures.key_signer import DIGEST, KeySigner

CODE_LIFETIME = dt.timedelta(minutes=5)
PURPOSE_MOST = 200  # characters of the text shown to the holder
STATE_MOST = 500


class SignRequestError(Exception):
    """A refused signing request. With ``back_to`` the refusal goes back to the client; without
    it (an unknown client or redirect URI) it is shown here, never redirected."""

    def __init__(self, error: str, description: str, back_to: SignRequest | None) -> None:
        super().__init__(description)
        self.error, self.description, self.back_to = error, description, back_to


@dataclass(frozen=True)
class SignRequest:
    client_id: str
    redirect_uri: str
    state: str
    digest: bytes  # SHA-256 of what is signed
    purpose: str  # shown to the holder: what they sign

    @property
    def digest_text(self) -> str:
        return base64.urlsafe_b64encode(self.digest).rstrip(b"=").decode("ascii")

    @property
    def fingerprint(self) -> str:
        """The first 8 bytes of the digest, for a person to compare: ``3F2A 9C01 …``."""
        hexed = self.digest[:8].hex().upper()
        return " ".join(hexed[index : index + 4] for index in range(0, len(hexed), 4))

    def as_fields(self) -> dict[str, str]:
        """What the page's form carries back (checked again on the way in)."""
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "digest": self.digest_text,
            "purpose": self.purpose,
        }

    def answer(self, **params: str) -> str:
        return f"{self.redirect_uri}?{urlencode({**params, 'state': self.state})}"


def parse_sign_request(params: Mapping[str, str], settings: Settings, base_url: str) -> SignRequest:
    if params.get("client_id") != settings.card_client_id:
        raise SignRequestError("unauthorized_client", "unknown client", None)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri != base_url.rstrip("/") + SIGN_CALLBACK_PATH:
        raise SignRequestError("invalid_request", "unregistered redirect_uri", None)
    state = params.get("state", "")
    back_to = SignRequest(params["client_id"], redirect_uri, state[:STATE_MOST], b"", "")
    if not state or len(state) > STATE_MOST:
        raise SignRequestError("invalid_request", "a state is required", back_to)
    purpose = params.get("purpose", "").strip()
    if not purpose or len(purpose) > PURPOSE_MOST:
        raise SignRequestError("invalid_request", "say what is signed (purpose)", back_to)
    digest = _digest(params.get("digest", ""), back_to)
    return SignRequest(params["client_id"], redirect_uri, state, digest, purpose)


def _digest(text: str, back_to: SignRequest) -> bytes:
    try:
        digest = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise SignRequestError("invalid_request", "digest: base64url of a SHA-256", back_to)
    return digest


class CardKey:
    """The chip's opened signature key as a platform ``SigningKey`` (it never leaves here)."""

    def __init__(self, key: rsa.RSAPrivateKey, card_number: str) -> None:
        self._key, self._handle = key, f"card:{card_number}"

    @property
    def handle(self) -> str:
        return self._handle

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


async def sign_digest(
    digest: bytes, opened: OpenedKey, card_number: str, now: dt.datetime
) -> bytes:
    """A detached CAdES-BES signature (DER CMS) over content whose SHA-256 is ``digest``."""
    signer = KeySigner(CardKey(opened.key, card_number), opened.certificate, opened.chain)
    content_info = await signer.async_sign(
        digest,
        DIGEST,
        use_pades=True,  # pyHanko's name for CAdES attributes outside a PDF too
        is_pdf_sig=False,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=now),
    )
    return bytes(content_info.dump())


async def create_signature_code(
    db: AsyncSession, card: VirtualCard, request: SignRequest, signature: bytes, now: dt.datetime
) -> str:
    code = secrets.token_urlsafe(32)
    db.add(
        CardSignatureCode(
            code_hash=code_hash(code),
            card_id=card.id,
            client_id=request.client_id,
            redirect_uri=request.redirect_uri,
            digest=request.digest.hex(),
            signature=signature,
            signed_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await db.flush()
    return code


async def exchange_signature_code(
    db: AsyncSession, form: Mapping[str, str], client_id: str, now: dt.datetime
) -> dict[str, str]:
    """The signature for ``code``, once; a code refused after it was found stays used."""
    grant = await spend_code(db, CardSignatureCode, form.get("code", ""), now)
    check_issued_to(grant, form, client_id)
    signature = base64.b64encode(grant.signature).decode("ascii")
    return {"format": WIRE_FORMAT, "signature": signature}
