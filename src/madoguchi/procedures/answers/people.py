"""Parsers for questions about a person: phone number, name, date of birth.

Raw shapes and the values returned:

- ``phone``: a string, Japanese (``090-1234-5678``, full-width, with or without hyphens) or
  international with ``+`` → ``{"e164": "+819012345678", "display": "090-1234-5678"}``; the display
  form is national for Japanese numbers and international (``+1 650-253-0000``) for others.
- ``person_name``: a mapping with ``family``, ``given``, ``family_kana`` and ``given_kana`` →
  a mapping with the same four keys, each the stripped NFC text or None when not given. The family
  name is required; the given name is not, because some foreign residents are registered with one
  name. Readings are turned into full-width katakana (hiragana and half-width kana are accepted)
  and must then be katakana from the Katakana block (which includes ー and ・) and spaces. They are
  required only when the question asks for kana, and then for each name part given.
- ``date_of_birth``: a string that ``core.wareki.parse_date`` reads → the ISO date. It may not be in
  the future; ``min_age`` and ``max_age`` count whole years on today's date in Japan, a year being
  completed on the birthday (for 29 February, on 1 March in other years).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import jaconv
import phonenumbers

from madoguchi.core.clock import today_in_japan
from madoguchi.core.errors import InvalidInput
from madoguchi.core.text import fold_width, nfc
from madoguchi.core.wareki import parse_date
from madoguchi.procedures.answers import Raw, parser
from madoguchi.procedures.answers.basic import check_length, text_of
from madoguchi.procedures.definition import DateOfBirth, PersonName, Phone

NAME_PARTS = ("family", "given", "family_kana", "given_kana")
_NAME_LENGTH = 100
_OLDEST = 150
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_KATAKANA = re.compile(r"[\u30a1-\u30fe]+(?: [\u30a1-\u30fe]+)*")


def today() -> dt.date:
    """Today in Japan, whatever the server's time zone."""
    return today_in_japan()


# --- Phone --------------------------------------------------------------------------------


@parser("phone")
def parse_phone(question: Phone, raw: Raw) -> dict[str, str]:
    text = fold_width(text_of(question, raw))
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            "{value} is not a phone number: enter it like 03-1234-5678 or 090-1234-5678.",
            field=question.id,
            value=text,
        )
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == "JP"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return {
        "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "display": phonenumbers.format_number(number, style),
    }


# --- Name ---------------------------------------------------------------------------------


@parser("person_name")
def parse_person_name(question: PersonName, raw: Raw) -> dict[str, str | None]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            "Enter the family name and the given name in their boxes.", field=question.id
        )
    unknown = sorted(set(raw) - set(NAME_PARTS))
    if unknown:
        raise InvalidInput(
            "{keys} is not a part of a name; send family, given, family_kana and given_kana.",
            field=question.id,
            keys=", ".join(unknown),
        )
    family = _name(question, raw, "family")
    given = _name(question, raw, "given")
    if family is None:
        raise InvalidInput("Enter the family name.", field=f"{question.id}.family")
    return {
        "family": family,
        "given": given,
        "family_kana": _kana(question, raw, "family", required=question.kana),
        "given_kana": _kana(question, raw, "given", required=question.kana and given is not None),
    }


def _name(question: PersonName, raw: Mapping[str, str], part: str) -> str | None:
    text = " ".join(_CONTROL.sub(" ", nfc(str(raw.get(part, "")))).split())
    return check_length(question, text, _NAME_LENGTH, field=f"{question.id}.{part}") or None


def _kana(question: PersonName, raw: Mapping[str, str], part: str, *, required: bool) -> str | None:
    field = f"{question.id}.{part}_kana"
    reading = _name(question, raw, f"{part}_kana")
    if reading is None:
        if not required:
            return None
        if part == "family":
            raise InvalidInput("Enter the reading of the family name in katakana.", field=field)
        raise InvalidInput("Enter the reading of the given name in katakana.", field=field)
    katakana = jaconv.hira2kata(fold_width(reading))
    if not _KATAKANA.fullmatch(katakana):
        raise InvalidInput(
            "{value} is not in katakana: write the reading in katakana, such as ヤマダ.",
            field=field,
            value=reading,
        )
    return str(katakana)


# --- Date of birth ------------------------------------------------------------------------


@parser("date_of_birth")
def parse_date_of_birth(question: DateOfBirth, raw: Raw) -> str:
    born = parse_date(text_of(question, raw), field=question.id)
    now = today()
    if born > now:
        raise InvalidInput("A date of birth cannot be in the future.", field=question.id)
    age = age_on(born, now)
    if age > _OLDEST:
        raise InvalidInput(
            "Check the year: this date of birth would make the person {age} years old.",
            field=question.id,
            age=age,
        )
    if question.min_age is not None and age < question.min_age:
        raise InvalidInput(
            "The person must be at least {least} years old today.",
            field=question.id,
            least=question.min_age,
        )
    if question.max_age is not None and age > question.max_age:
        raise InvalidInput(
            "The person must be at most {most} years old today.",
            field=question.id,
            most=question.max_age,
        )
    return born.isoformat()


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years completed on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
