"""Parsers for the general question types: text, numbers, dates, choices, yes/no, email.

Raw shapes and the values returned (``parse_answer`` has already refused empty answers):

- ``short_text``: a string → the string stripped, in NFC; tabs and line breaks become spaces.
- ``long_text``: a string → stripped, NFC, line breaks kept as ``\\n``.
- ``number``: a string such as ``1,000``, ``１０００`` or ``-2.5``, without the unit →
  ``int`` when the question is ``integer``, otherwise the decimal as a string (``"2.50"``,
  exactly as typed, never passed through a float).
- ``date``: a string that ``core.wareki.parse_date`` reads → the ISO date ``"2024-04-01"``.
- ``choice`` without ``other``: radio and select take one option value (a string) → that string;
  checkboxes take a list of values (or one string) → the list, in the order of the options.
  A mapping ``{"value": …}`` is read the same way.
- ``choice`` with ``other: true``: the same, or a mapping ``{"value": <value or list>, "other":
  <text>}`` where the reserved value ``"other"`` chooses the text box (a form posts the box as
  ``<id>.other``) → always a mapping ``{"value": <string or list>, "other": <text or None>}``, so a
  question's answers have one shape. The text may be up to 200 characters; errors in the text box
  name the field ``<id>.other``.
- ``yes_no``: ``"yes"`` or ``"no"`` → ``True`` or ``False``.
- ``email``: a string → the address with its domain in lower case.
- ``declaration``: ``"yes"``, ``"on"`` or ``"true"`` → ``True``.

Control characters other than tab and line breaks are removed: they cannot be typed, and
PostgreSQL cannot store NUL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from madoguchi.core.errors import InvalidInput
from madoguchi.core.text import fold_width, nfc
from madoguchi.core.wareki import parse_date
from madoguchi.procedures.answers import Raw, parser
from madoguchi.procedures.definition import (
    Choice,
    Date,
    Declaration,
    Email,
    LongText,
    Number,
    ShortText,
    YesNo,
)

OTHER = "other"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBER = re.compile(
    r"(?P<sign>[-+]?)(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?P<part>\.[0-9]+)?"
)
_MAX_NUMBER_LENGTH = 40  # int() of thousands of digits is slow; no form needs more
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def text_of(question: Any, raw: Raw) -> str:
    """The one string a text-like answer must be, without control characters."""
    if not isinstance(raw, str):
        raise InvalidInput("Enter one answer as text.", field=question.id)
    return _CONTROL.sub("", nfc(raw)).strip()


def check_length(question: Any, text: str, most: int, least: int = 0, field: str = "") -> str:
    count = len(text)
    if count > most:
        raise InvalidInput(
            "Enter at most {most} characters; you entered {count}.",
            field=field or question.id,
            most=most,
            count=count,
        )
    if count < least:
        raise InvalidInput(
            "Enter at least {least} characters; you entered {count}.",
            field=field or question.id,
            least=least,
            count=count,
        )
    return text


@parser("short_text")
def parse_short_text(question: ShortText, raw: Raw) -> str:
    text = " ".join(re.split(r"[\t\r\n]+", text_of(question, raw)))
    return check_length(question, text, question.max_length)


@parser("long_text")
def parse_long_text(question: LongText, raw: Raw) -> str:
    text = text_of(question, raw).replace("\r\n", "\n").replace("\r", "\n")
    return check_length(question, text, question.max_length, question.min_length)


# --- Numbers ------------------------------------------------------------------------------


@parser("number")
def parse_number(question: Number, raw: Raw) -> int | str:
    value = _decimal(question, raw)
    if question.integer:
        if value.as_tuple().exponent != 0:
            raise InvalidInput(
                "{value} is not a whole number: enter it without a decimal point.",
                field=question.id,
                value=raw,
            )
        _check_range(question, value)
        return int(value)
    _check_range(question, value)
    return str(abs(value) if value.is_zero() else value)


def _decimal(question: Number, raw: Raw) -> Decimal:
    text = "".join(fold_width(text_of(question, raw)).replace("−", "-").split())
    match = _NUMBER.fullmatch(text)
    if len(text) > _MAX_NUMBER_LENGTH or not match or not (match["whole"] or match["part"]):
        raise InvalidInput(
            "{value} is not a number: enter digits only, such as 1,000, without the unit.",
            field=question.id,
            value=raw,
        )
    whole = match["whole"].replace(",", "") or "0"
    return Decimal(match["sign"] + whole + (match["part"] or ""))


def _check_range(question: Number, value: Decimal) -> None:
    least, most = _bound(question.minimum), _bound(question.maximum)
    if (least is not None and value < least) or (most is not None and value > most):
        if least is not None and most is not None:
            raise InvalidInput(
                "Enter a number between {least} and {most}.",
                field=question.id,
                least=str(least),
                most=str(most),
            )
        if least is not None:
            raise InvalidInput(
                "Enter a number of {least} or more.", field=question.id, least=str(least)
            )
        raise InvalidInput("Enter a number of {most} or less.", field=question.id, most=str(most))


def _bound(limit: float | None) -> Decimal | None:
    """A limit as written in the definition (repr, not the float's binary expansion)."""
    if limit is None:
        return None
    return Decimal(repr(limit)).normalize() if limit % 1 else Decimal(int(limit))


# --- Dates --------------------------------------------------------------------------------


@parser("date")
def parse_date_answer(question: Date, raw: Raw) -> str:
    date = parse_date(text_of(question, raw), field=question.id)
    if question.earliest and date < question.earliest:
        raise InvalidInput(
            "Enter a date on or after {earliest}.",
            field=question.id,
            earliest=question.earliest.isoformat(),
        )
    if question.latest and date > question.latest:
        raise InvalidInput(
            "Enter a date on or before {latest}.",
            field=question.id,
            latest=question.latest.isoformat(),
        )
    return date.isoformat()


# --- Choices ------------------------------------------------------------------------------


@parser("choice")
def parse_choice(question: Choice, raw: Raw) -> str | list[str] | dict[str, Any]:
    selected, other_text = _selection(question, raw)
    allowed = [option.value for option in question.options]
    if question.other:
        allowed.append(OTHER)
    for choice in selected:
        if choice not in allowed:
            raise InvalidInput(
                "{value} is not one of the options.", field=question.id, value=choice
            )
    other = _other_text(question, selected, other_text)
    value: str | list[str] = (
        _checked(question, selected, allowed)
        if question.style == "checkboxes"
        else _one(question, selected)
    )
    return {"value": value, "other": other} if question.other else value


def _selection(question: Choice, raw: Raw) -> tuple[list[str], str]:
    """The chosen values, stripped and without blanks, and the text of the 'other' box."""
    other_text = ""
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - {"value", OTHER})
        if unknown or (OTHER in raw and not question.other):
            raise InvalidInput(
                "Send the choice as its option value, not as {keys}.",
                field=question.id,
                keys=", ".join(unknown or [OTHER]),
            )
        other_text = nfc(str(raw.get(OTHER, "")))
        raw = raw.get("value", "")
    values: Sequence[Any] = [raw] if isinstance(raw, str) else raw
    return [text for text in (str(value).strip() for value in values) if text], other_text


def _other_text(question: Choice, selected: list[str], text: str) -> str | None:
    text = _CONTROL.sub("", " ".join(text.split()))
    field = f"{question.id}.{OTHER}"
    if OTHER in selected and question.other:
        if not text:
            raise InvalidInput("Enter your answer in the box for 'other'.", field=field)
        return check_length(question, text, 200, field=field)
    if text:
        raise InvalidInput(
            "You wrote an answer in the box for 'other': choose 'other' too, or delete it.",
            field=field,
        )
    return None


def _one(question: Choice, selected: list[str]) -> str:
    if len(selected) != 1:
        raise InvalidInput("Choose only one option.", field=question.id)
    return selected[0]


def _checked(question: Choice, selected: list[str], allowed: list[str]) -> list[str]:
    for value, times in Counter(selected).items():
        if times > 1:
            raise InvalidInput("{value} is chosen more than once.", field=question.id, value=value)
    count = len(selected)
    if question.min_selected is not None and count < question.min_selected:
        raise InvalidInput(
            "Choose at least {least} options.", field=question.id, least=question.min_selected
        )
    if question.max_selected is not None and count > question.max_selected:
        raise InvalidInput(
            "Choose at most {most} options.", field=question.id, most=question.max_selected
        )
    return [value for value in allowed if value in selected]


# --- Yes or no, email, declaration --------------------------------------------------------


@parser("yes_no")
def parse_yes_no(question: YesNo, raw: Raw) -> bool:
    answer = fold_width(text_of(question, raw)).lower()
    if answer not in ("yes", "no"):
        raise InvalidInput("Choose yes or no.", field=question.id)
    return answer == "yes"


@parser("email")
def parse_email(question: Email, raw: Raw) -> str:
    address = fold_width(text_of(question, raw))
    if len(address) > 254:
        raise InvalidInput(
            "An email address has at most 254 characters; this one has {count}.",
            field=question.id,
            count=len(address),
        )
    local, at, domain = address.rpartition("@")
    if not at or not _LOCAL_PART.fullmatch(local):
        raise InvalidInput(
            "{value} is not an email address: enter it like name@example.jp.",
            field=question.id,
            value=address,
        )
    domain = domain.lower()
    if not _is_domain(domain):
        raise InvalidInput(
            "{domain} after the @ is not an internet domain, such as example.jp.",
            field=question.id,
            domain=domain,
        )
    return f"{local}@{domain}"


def _is_domain(domain: str) -> bool:
    """Two or more labels of letters, digits and inner hyphens; a top-level label not all digits.

    Local parts may hold dots in any place: older Japanese mobile addresses (``taro..@``) do.
    """
    labels = domain.split(".")
    return (
        len(domain) <= 253
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


@parser("declaration")
def parse_declaration(question: Declaration, raw: Raw) -> bool:
    if fold_width(text_of(question, raw)).lower() not in ("yes", "on", "true"):
        raise InvalidInput("Confirm the declaration to continue.", field=question.id)
    return True
