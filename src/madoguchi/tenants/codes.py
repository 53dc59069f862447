"""Codes that identify public bodies: JIS X 0402 local-government codes and national body codes."""

from __future__ import annotations

import re

from madoguchi.core.errors import InvalidInput
from madoguchi.core.text import fold_width

_WEIGHTS = (6, 5, 4, 3, 2)
_NATIONAL_CODE = re.compile(r"[a-z]{2,20}")


def jis_check_digit(base: str) -> str:
    """The check digit of a 5-digit base: last digit of 11 − (6a+5b+4c+3d+2e) mod 11."""
    if len(base) != len(_WEIGHTS) or not base.isascii() or not base.isdigit():
        raise ValueError(f"a JIS X 0402 base is 5 digits, got {base!r}")
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, base, strict=True))
    return str((11 - total % 11) % 10)


def with_check_digit(base: str) -> str:
    return base + jis_check_digit(base)


def is_valid_jis_code(code: str) -> bool:
    return (
        len(code) == 6
        and code.isascii()
        and code.isdigit()
        and jis_check_digit(code[:5]) == code[5]
    )


def parse_tenant_code(raw: str, field: str = "code") -> str:
    """The canonical code for what a person or system typed, or a clear error naming the field.

    Accepts a 6-digit JIS X 0402 code (check digit verified), its 5-digit base, full-width
    digits, and the lower-case code of a national body.
    """
    text = fold_width(raw).strip()
    if text.isascii() and text.isdigit():
        if len(text) == 5:
            return with_check_digit(text)
        if len(text) == 6:
            expected = jis_check_digit(text[:5])
            if text[5] != expected:
                raise InvalidInput(
                    "The check digit of {code} is wrong: it should end in {expected}.",
                    field=field,
                    code=text,
                    expected=expected,
                )
            return text
    if _NATIONAL_CODE.fullmatch(text.lower()):
        return text.lower()
    raise InvalidInput(
        "{value} is not a public body code. Use a 6-digit local government code "
        "(JIS X 0402, e.g. 011002) or a national body code (e.g. digital).",
        field=field,
        value=raw,
    )
