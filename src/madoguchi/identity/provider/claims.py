"""What a client may ask for and what it receives: scopes, claims, subjects and assurance.

The scopes are those of the Digital Agency's authentication app (``name address birthdate
gender``), each releasing the one basic attribute read from the person's My Number card. An
attribute is released only when the card verified it (``people.attributes_verified_at``): a
person who has only proven an email address has none to give.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from madoguchi.core.crypto import derive_key
from madoguchi.core.i18n import N_, _, current_language
from madoguchi.core.wareki import format_date
from madoguchi.identity.models import Assurance, Person

OPENID = "openid"
ATTRIBUTE_SCOPES = ("name", "address", "birthdate", "gender")
SUPPORTED_SCOPES = (OPENID, *ATTRIBUTE_SCOPES)
CLAIMS_SUPPORTED = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash")

# How strongly the person was proven, as the ``acr`` claim (and ``acr_values`` a client asks for).
ACR_LOW = "urn:madoguchi:acr:low"  # an email address proven by a one-time link
ACR_HIGH = "urn:madoguchi:acr:high"  # the My Number card, or a passkey of a card-proven person
ACR_LEVELS = {ACR_LOW: Assurance.LOW, ACR_HIGH: Assurance.HIGH}

PAIRWISE_PURPOSE = "oidc_pairwise"


@dataclass(frozen=True)
class Attribute:
    scope: str
    label: str  # an English message id, translated on the consent page


SEXES = {"female": N_("Female"), "male": N_("Male")}
ATTRIBUTES = {
    "name": Attribute("name", N_("Name")),
    "address": Attribute("address", N_("Address")),
    "birthdate": Attribute("birthdate", N_("Date of birth")),
    "gender": Attribute("gender", N_("Sex")),
}


def attribute_scopes(scopes: list[str]) -> list[str]:
    """The scopes that release an attribute, in a fixed order."""
    return [scope for scope in ATTRIBUTE_SCOPES if scope in scopes]


def released_claims(person: Person, scopes: list[str]) -> dict[str, Any]:
    """The attributes these scopes release for this person: only card-verified ones."""
    if person.attributes_verified_at is None:
        return {}
    values: dict[str, Any] = {
        "name": person.name,
        "address": {"formatted": person.address} if person.address else None,
        "birthdate": person.birthdate.isoformat() if person.birthdate else None,
        "gender": person.gender,
    }
    return {scope: values[scope] for scope in attribute_scopes(scopes) if values[scope] is not None}


@dataclass(frozen=True)
class Shown:
    """One attribute on the consent screen: the value as it would be sent, for people to read."""

    label: str  # an English message id
    text: str | None  # None: the card did not prove it, so it is not sent
    lang: str | None = None  # "ja" for a name or address, whatever the page's language


def shown_values(person: Person, scopes: list[str]) -> list[Shown]:
    """Each attribute asked for, with the value that would be sent."""
    claims = released_claims(person, scopes)
    return [_shown(person, scope, scope in claims) for scope in attribute_scopes(scopes)]


def _shown(person: Person, scope: str, released: bool) -> Shown:
    label = ATTRIBUTES[scope].label
    if not released:
        return Shown(label, None)
    if scope == "birthdate" and person.birthdate:
        return Shown(label, format_date(person.birthdate, current_language()))
    if scope == "gender" and person.gender:
        return Shown(label, _(SEXES[person.gender]) if person.gender in SEXES else person.gender)
    return Shown(label, person.name if scope == "name" else person.address, "ja")


def pairwise_subject(sector_identifier: str, person_id: uuid.UUID, secret: str) -> str:
    """The subject one sector sees for a person (OpenID Connect Core 8.1): HMAC-SHA256 of the
    sector and the person's id, under a key derived from the application secret. Another sector
    gets an unrelated value, and nobody without the secret can link the two."""
    key = derive_key(PAIRWISE_PURPOSE, secret)
    message = f"{sector_identifier}\x00{person_id}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def acr_for(assurance: Assurance) -> str:
    return ACR_HIGH if assurance >= Assurance.HIGH else ACR_LOW


def required_assurance(acr_values: str | None) -> Assurance:
    """The lowest level among the ``acr_values`` we know; unknown values ask for nothing."""
    known = [ACR_LEVELS[value] for value in (acr_values or "").split() if value in ACR_LEVELS]
    return min(known, default=Assurance.LOW)
