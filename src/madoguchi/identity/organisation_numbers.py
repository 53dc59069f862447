"""The numbers and names people type to register an organisation: the corporate number
(法人番号), the medical institution code (医療機関コード), the name and the kind. Full-width digits,
spaces and hyphens are accepted as typed; every message names its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.jp import cn

from madoguchi.core.errors import InvalidInput, InvalidInputs
from madoguchi.core.text import fold_width, nfc, strip_separators
from madoguchi.identity.models import OrganisationKind

MAX_NAME_LENGTH = 200  # the column's size
PREFECTURES = range(1, 48)  # 01 Hokkaido … 47 Okinawa
# 点数表番号: 1 医科 (medicine), 3 歯科 (dentistry), 4 調剤 (pharmacy), 6 訪問看護 (home nursing)
POINT_TABLES = frozenset("1346")


@dataclass(frozen=True)
class Registration:
    """What a registration form says, checked."""

    kind: OrganisationKind
    name: str
    corporate_number: str | None = None
    medical_institution_code: str | None = None


# --- Parsing ------------------------------------------------------------------


def parse_corporate_number(raw: str, field: str = "corporate_number") -> str:
    """法人番号: 13 digits with the check digit first; full-width digits, spaces and hyphens
    are accepted as typed."""
    digits = strip_separators(raw)
    if not digits:
        raise InvalidInput("Enter the corporate number (13 digits).", field=field)
    if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            "A corporate number has 13 digits, such as 5835678256246; this one has {count} "
            "characters.",
            field=field,
            count=len(digits),
        )
    try:
        return str(cn.validate(digits))
    except ValidationError:
        raise InvalidInput(
            "This is not a corporate number: its first digit does not match the other 12. "
            "Check each digit against the National Tax Agency's notice.",
            field=field,
        ) from None


def parse_medical_institution_code(raw: str, field: str = "medical_institution_code") -> str:
    """医療機関コード: 2 digits of the prefecture (01–47), 1 of the point table, and 7 (the
    district, the institution and a check digit; the check digit is Luhn's over all ten)."""
    digits = strip_separators(raw)
    if not digits:
        raise InvalidInput("Enter the medical institution code (10 digits).", field=field)
    if not (len(digits) == 10 and digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            "A medical institution code has 10 digits, such as 0110113719; this one has "
            "{count} characters.",
            field=field,
            count=len(digits),
        )
    if int(digits[:2]) not in PREFECTURES:
        raise InvalidInput(
            "The first two digits of a medical institution code are a prefecture, from 01 "
            "(Hokkaido) to 47 (Okinawa).",
            field=field,
        )
    if digits[2] not in POINT_TABLES:
        raise InvalidInput(
            "The third digit of a medical institution code is 1 (medical), 3 (dental), "
            "4 (pharmacy) or 6 (home nursing).",
            field=field,
        )
    if not luhn.is_valid(digits):
        raise InvalidInput(
            "This is not a medical institution code: its last digit does not match the others. "
            "Check each digit.",
            field=field,
        )
    return digits


def parse_organisation_name(raw: str, field: str = "name") -> str:
    name = " ".join(nfc(raw).split())
    if not name:
        raise InvalidInput("Enter the organisation's name.", field=field)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            "A name has at most {most} characters; this one has {count}.",
            field=field,
            most=MAX_NAME_LENGTH,
            count=len(name),
        )
    return name


def parse_kind(raw: str, field: str = "kind") -> OrganisationKind:
    try:
        return OrganisationKind(fold_width(raw).strip())
    except ValueError:
        raise InvalidInput(
            "Choose whether it is a business, a medical institution or another organisation.",
            field=field,
        ) from None


def check_registration(form: dict[str, str]) -> Registration:
    """Every problem of a registration form at once (``InvalidInputs``), or the registration.
    Only the fields of the kind chosen are read: a business needs its corporate number, a
    medical institution its code (and may give a corporate number), another organisation a name
    (and may give a corporate number)."""
    problems: list[InvalidInput] = []

    def attempt(parse: Any, *args: str) -> Any:
        try:
            return parse(*args)
        except InvalidInput as problem:
            problems.append(problem)
            return None

    kind = attempt(parse_kind, form.get("kind", ""))
    name = attempt(parse_organisation_name, form.get("name", ""))
    number_typed = form.get("corporate_number", "").strip()
    corporate_number = None
    if kind is OrganisationKind.BUSINESS or (kind is not None and number_typed):
        corporate_number = attempt(parse_corporate_number, number_typed)
    code = None
    if kind is OrganisationKind.MEDICAL_INSTITUTION:
        code = attempt(parse_medical_institution_code, form.get("medical_institution_code", ""))
    if problems:
        raise InvalidInputs(problems)
    return Registration(kind, name, corporate_number, code)
