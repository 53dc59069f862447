"""Virtual cards: issuing one to a synthetic resident, and reading one as a card reader does.

Issuing makes two RSA-2048 key pairs (user authentication, signature), has the platform's
residents' authority certify them, and keeps each private key wrapped under its secret. Reading
asks for the PIN (and the password when the holder's attributes or a signature are wanted),
opens the keys, proves with each that the card holds the key its certificate names, and checks
the certificates: issued by the residents' authority, within their validity, not revoked. Only
then does the simulator vouch for the holder, or sign.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.clock import today_in_japan
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.ids import uuid7
from madoguchi.core.reference_numbers import new_reference, parse_reference
from madoguchi.core.settings import Settings
from madoguchi.identity.card_simulator import certificates
from madoguchi.identity.card_simulator.certificates import (
    CertificateRefused,
    CertificateRevoked,
    Holder,
)
from madoguchi.identity.card_simulator.chip import (
    Secret,
    new_password,
    new_pin,
    open_key,
    prove_possession,
    wrap_key,
)
from madoguchi.identity.jose_keys import generate_rsa_key
from madoguchi.identity.models.cards import VirtualCard
from madoguchi.signatures import service as signatures
from madoguchi.signatures.service import CaName, Purpose


class CardRefused(MadoguchiError):
    code = "card-refused"
    status = 403
    title = N_("This card cannot be used")


UNKNOWN_CARD = N_("No virtual card has this card number. Check it, or get a new virtual card.")
NOT_VALID = N_(
    "This card's certificate is not valid: it has expired, or it was not issued by the "
    "residents' certificate authority."
)
REVOKED = N_(
    "This card's certificate has been revoked, so it can no longer be used. With a real card "
    "this happens when your name or address changes: your municipality's counter issues a new "
    "certificate. In the simulator, get a new virtual card."
)


@dataclass(frozen=True)
class IssuedCard:
    """What the holder is told once: the secrets are not kept anywhere in the clear."""

    card_number: str
    pin: str
    password: str
    holder: Holder
    expires_on: dt.date


@dataclass(frozen=True)
class OpenedKey:
    """A card key opened with its secret, with its checked certificate and that one's chain."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate]  # the residents' authority, then the root


async def issue_card(
    db: AsyncSession,
    settings: Settings,
    holder: Holder,
    *,
    pin: str | None = None,
    password: str | None = None,
    today: dt.date | None = None,
) -> IssuedCard:
    today = today or today_in_japan()
    pin, password = pin or new_pin(), password or new_password()
    expires = certificates.fifth_birthday_after(today, holder.birthdate)
    number = new_reference()
    auth_key, sign_key = generate_rsa_key(), generate_rsa_key()
    auth = await signatures.issue_resident_certificate(
        db,
        settings,
        Purpose.CARD_AUTHENTICATION,
        certificates.authentication_builder(auth_key.public_key(), today, expires),
    )
    sign = await signatures.issue_resident_certificate(
        db,
        settings,
        Purpose.CARD_SIGNATURE,
        certificates.signature_builder(sign_key.public_key(), holder, today, expires),
    )
    db.add(
        VirtualCard(
            id=uuid7(),
            card_number=number,
            subject=secrets.token_urlsafe(24),
            name=holder.name,
            address=holder.address,
            birthdate=holder.birthdate,
            sex=holder.sex,
            issued_on=today,
            expires_on=expires,
            authentication_certificate_pem=signatures.pem_of(auth),
            signature_certificate_pem=signatures.pem_of(sign),
            authentication_key=wrap_key(auth_key, pin, f"{number}/{Secret.PIN.value}"),
            signature_key=wrap_key(sign_key, password, f"{number}/{Secret.PASSWORD.value}"),
            pin_failures=0,
            password_failures=0,
        )
    )
    await db.flush()
    return IssuedCard(number, pin, password, holder, expires)


async def find_card(db: AsyncSession, typed: str, field: str = "card_number") -> VirtualCard:
    try:
        number = parse_reference(typed, field)
    except InvalidInput:
        raise InvalidInput(
            "Enter the card number as it is printed: 9 letters and digits, like 7KQ2-9XMD-R.",
            field=field,
        ) from None
    card = await db.scalar(select(VirtualCard).where(VirtualCard.card_number == number))
    if card is None:
        raise InvalidInput(UNKNOWN_CARD, field=field)
    return card


async def read_card(
    db: AsyncSession,
    settings: Settings,
    card: VirtualCard,
    pin: str,
    password: str | None,
    now: dt.datetime,
) -> Holder | None:
    """Prove the card with its PIN (and, given a password, its signature certificate too);
    the holder's attributes when the password was given. Raises WrongSecret, CertificateLocked
    or CardRefused."""
    pem = card.authentication_certificate_pem
    await _prove(db, settings, card, Secret.PIN, pin, pem, now)
    if password is None:
        return None
    opened = await open_signature_key(db, settings, card, password, now)
    return certificates.holder_of(opened.certificate)


async def open_signature_key(
    db: AsyncSession, settings: Settings, card: VirtualCard, password: str, now: dt.datetime
) -> OpenedKey:
    """The card's signature key, opened with its password, and its certificate, checked."""
    pem = card.signature_certificate_pem
    return await _prove(db, settings, card, Secret.PASSWORD, password, pem, now)


def certificate_serials(card: VirtualCard) -> list[str]:
    """The serials (hex) of the card's two certificates."""
    pems = (card.authentication_certificate_pem, card.signature_certificate_pem)
    return [signatures.serial_text(_load(pem).serial_number) for pem in pems]


async def _prove(
    db: AsyncSession,
    settings: Settings,
    card: VirtualCard,
    which: Secret,
    given: str,
    pem: str,
    now: dt.datetime,
) -> OpenedKey:
    """Open the key with its secret, check its certificate, and prove the key matches it."""
    key = open_key(card, which, given, now)
    certificate = _load(pem)
    chain = await signatures.chain_of(db, settings, CaName.RESIDENTS)
    serial = signatures.serial_text(certificate.serial_number)
    revoked_at = await signatures.certificate_status(db, serial)
    try:
        certificates.check_issued_by(certificate, chain[0], now, revoked_at)
        prove_possession(key, certificate)
    except CertificateRevoked:
        raise CardRefused(REVOKED) from None
    except CertificateRefused:
        raise CardRefused(NOT_VALID) from None
    return OpenedKey(key, certificate, chain)


def _load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))
