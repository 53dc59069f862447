"""Public reference numbers: short, easy to read aloud and type, with a check character.

A reference looks like ``7KQ2-9XMD-R``: eight random characters and one check character from
Crockford's base-32 alphabet (digits and upper-case letters without I, L, O and U, which are
easily misread). Reading is forgiving: lower case, missing or extra hyphens and spaces, full-width
characters, and O for 0 or I/L for 1 are all accepted. The check character is Luhn mod 32, which
catches every single mistyped character and every swap of two neighbouring characters except the
one Luhn cannot see, 0 and Z. Submissions will use it ([P2] item 5).
"""

from __future__ import annotations

import secrets

from madoguchi.core.errors import InvalidInput
from madoguchi.core.text import fold_width

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
BODY_LENGTH = 8
_VALUES = {symbol: value for value, symbol in enumerate(ALPHABET)}
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference() -> str:
    """A fresh random reference (40 random bits: unique in practice; the database enforces it)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_reference(body + check_character(body))


def check_character(body: str) -> str:
    """Luhn mod N over the body, read from the right, every second value doubled."""
    total = 0
    for position, symbol in enumerate(reversed(body)):
        value = _VALUES[symbol] * (2 if position % 2 == 0 else 1)
        total += value // BASE + value % BASE
    return ALPHABET[(BASE - total % BASE) % BASE]


def format_reference(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:8]}-{compact[8:]}"


def parse_reference(raw: str, field: str = "reference") -> str:
    """The canonical form of what someone typed or read, or a clear error naming the field."""
    compact = "".join(fold_width(raw).upper().split()).replace("-", "").translate(_MISREAD)
    if len(compact) != BODY_LENGTH + 1 or any(symbol not in _VALUES for symbol in compact):
        raise InvalidInput(
            "{value} is not a reference number: it has 9 letters and digits, like 7KQ2-9XMD-R.",
            field=field,
            value=raw,
        )
    if check_character(compact[:BODY_LENGTH]) != compact[BODY_LENGTH]:
        raise InvalidInput(
            "The reference number {value} has a mistake in it: check each character.",
            field=field,
            value=raw,
        )
    return format_reference(compact)
