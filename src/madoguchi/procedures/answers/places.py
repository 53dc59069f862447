"""Answers that are places: a postal address, and a local government by its JIS X 0402 code.

An address starts from its postal code ("once only": the government already knows which
prefecture, municipality and town it belongs to). Pages use it in two ways:

* the "find address" button (it works without JavaScript: a round trip) calls
  ``address_from_postal_code`` and shows the form again with prefecture, municipality and town
  filled in;
* when a person continues with only the postal code, the parser raises ``AddressFound``: an
  ``InvalidInput`` on ``<id>.street`` whose ``prefill`` holds the same values, so a page that knows
  it prefills the form, and one that does not still shows a plain error and keeps what was typed.

What a person types for the prefecture and municipality must agree with the postal code; empty
ones are taken from it, as is the town when the code has a single one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.i18n import N_
from madoguchi.core.text import fold_width, nfc, search_key, strip_separators
from madoguchi.procedures.answers import Raw, parser
from madoguchi.tenants.service import (
    BodyRecord,
    PostalResult,
    find_local_government,
    lookup_postal_code,
    parse_postal_code,
    parse_tenant_code,
)

ADDRESS_PARTS = ("postal_code", "prefecture", "municipality", "town", "street", "building")
MAX_PART_LENGTH = 200
_PREFECTURE_SUFFIXES = "都道府県"


class AddressFound(InvalidInput):
    """Only the postal code was given: ``prefill`` is what the form should show next."""

    def __init__(self, prefill: dict[str, Any], *, field: str) -> None:
        super().__init__(
            N_("We found the address for this postal code: check it and add the street number."),
            field=field,
        )
        self.prefill = prefill


def address_from_postal_code(raw: str, field: str = "postal_code") -> dict[str, Any]:
    """What to prefill for a postal code: its prefecture, municipality, ward and towns.

    ``town`` is filled only when the code has a single town; ``towns`` lists them all for a choice.
    """
    result = _lookup(raw, field)
    first = result.towns[0]
    towns = list(dict.fromkeys(town.town for town in result.towns if town.town))
    return {
        "postal_code": result.postal_code,
        "prefecture": first.prefecture.name,
        "municipality": first.municipality.name + (first.ward.name if first.ward else ""),
        "town": towns[0] if len(towns) == 1 else "",
        "towns": towns,
    }


@parser("address")
def parse_address(question: Any, raw: Raw) -> dict[str, Any]:
    """The address with codes from the postal data and the parts a person typed, normalised."""
    typed = _typed_parts(question.id, raw)
    result = _lookup(typed["postal_code"], f"{question.id}.postal_code")
    if not any(typed[part] for part in ADDRESS_PARTS[1:]):
        raise AddressFound(
            address_from_postal_code(result.postal_code), field=f"{question.id}.street"
        )
    town = _matching_town(question.id, result, typed)
    street = typed["street"]
    if not street:
        raise InvalidInput(
            "Enter the block and house number (番地), such as 1-2-3.", field=f"{question.id}.street"
        )
    return {
        "postal_code": result.postal_code,
        "prefecture": {"code": town.prefecture.code, "name": town.prefecture.name},
        "municipality": {"code": town.municipality.code, "name": town.municipality.name},
        "ward": {"code": town.ward.code, "name": town.ward.name} if town.ward else None,
        "town": typed["town"] or _only_town(question.id, result),
        "street": street,
        "building": typed["building"],
    }


@parser("local_government")
def parse_local_government(question: Any, raw: Raw) -> str:
    """The 6-digit JIS X 0402 code of an existing prefecture or municipality (5 digits accepted)."""
    text = strip_separators(raw) if isinstance(raw, str) else ""
    if not (len(text) in (5, 6) and text.isascii() and text.isdigit()):
        raise InvalidInput(
            "Enter the local government code: 6 digits (JIS X 0402), such as 131016.",
            field=question.id,
        )
    code = parse_tenant_code(text, field=question.id)
    if find_local_government(code) is None:
        raise InvalidInput("No local government has the code {code}.", field=question.id, code=code)
    return code


def _typed_parts(question_id: str, raw: Raw) -> dict[str, str]:
    fields = raw if isinstance(raw, Mapping) else {}
    parts = {
        part: " ".join(nfc(fold_width(fields.get(part, ""))).split()) for part in ADDRESS_PARTS
    }
    for part, value in parts.items():
        if len(value) > MAX_PART_LENGTH:
            raise InvalidInput(
                "This part of the address is too long: at most {most} characters.",
                field=f"{question_id}.{part}",
                most=MAX_PART_LENGTH,
            )
    if not parts["postal_code"]:
        raise InvalidInput(
            "Enter the postal code: 7 digits, such as 100-0001.", field=f"{question_id}.postal_code"
        )
    return parts


def _lookup(raw: str, field: str) -> PostalResult:
    code = parse_postal_code(raw, field=field)
    try:
        return lookup_postal_code(code)
    except NotFound:
        raise InvalidInput(
            "No address has the postal code {code}: check the number on a letter or at Japan Post.",
            field=field,
            code=code,
        ) from None


def _matching_town(question_id: str, result: PostalResult, typed: dict[str, str]) -> Any:
    towns = [t for t in result.towns if _same_prefecture(typed["prefecture"], t.prefecture)]
    if not towns:
        raise InvalidInput(
            "The postal code {code} is in {expected}, not {typed}.",
            field=f"{question_id}.prefecture",
            code=result.formatted,
            expected=result.towns[0].prefecture.name,
            typed=typed["prefecture"],
        )
    matching = [t for t in towns if _same_municipality(typed["municipality"], t)]
    if not matching:
        raise InvalidInput(
            "The postal code {code} is in {expected}, not {typed}.",
            field=f"{question_id}.municipality",
            code=result.formatted,
            expected=_municipality_name(towns[0]),
            typed=typed["municipality"],
        )
    key = search_key(typed["town"])
    return next((t for t in matching if t.town and key.startswith(search_key(t.town))), matching[0])


def _same_prefecture(typed: str, prefecture: BodyRecord) -> bool:
    if not typed:
        return True
    if typed.isascii() and typed.isdigit():
        return typed == prefecture.code or typed.zfill(2) == prefecture.code[:2]
    return _without_suffix(typed) == _without_suffix(prefecture.name)


def _without_suffix(prefecture: str) -> str:
    """東京 for 東京都, 大阪 for 大阪府: people often leave the suffix out."""
    return prefecture[:-1] if prefecture[-1:] in _PREFECTURE_SUFFIXES else prefecture


def _same_municipality(typed: str, town: Any) -> bool:
    if not typed:
        return True
    key = search_key(typed)
    accepted = {town.municipality.name, _municipality_name(town)}
    if town.ward:
        accepted.add(town.ward.name)  # 中区 alone, when the city is clear from the postal code
    return key in {search_key(name) for name in accepted} or key == search_key(
        town.municipality.code
    )


def _municipality_name(town: Any) -> str:
    return str(town.municipality.name) + (town.ward.name if town.ward else "")


def _only_town(question_id: str, result: PostalResult) -> str:
    towns = {t.town for t in result.towns if t.town}
    if len(towns) > 1:
        raise InvalidInput("Enter the town (町名) of the address.", field=f"{question_id}.town")
    return towns.pop() if towns else ""
