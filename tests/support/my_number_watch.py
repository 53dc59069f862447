"""A guard over every log record the suite writes: none may hold a My Number.

A My Number must never be logged ([P3] item 7). This handler sits on the root logger for the whole
test session and keeps every record whose text (message, arguments and any traceback) contains
twelve digits, standing alone, that pass the My Number check digit. The session fails at the end
if there is one, naming the logger and where it was written — never the number.

The servers the browser tests start in child processes are watched too: ``tests/support/server.py``
reads each one's whole output when it stops and fails the test if ``my_numbers_in`` finds one.

The last group of a UUID (``…-8c3f-123456789018``) is twelve hex digits that are sometimes all
decimal; it is not a My Number and is not counted.
"""

from __future__ import annotations

import logging
import re

from stdnum.jp import in_

TWELVE_DIGITS = re.compile(r"(?<![0-9０-９])(?<![0-9a-fA-F]{4}-)[0-9０-９]{12}(?![0-9０-９])")


def my_numbers_in(text: str) -> int:
    """How many valid My Numbers stand in ``text`` (full-width digits count too)."""
    found = (match.translate(_HALF_WIDTH) for match in TWELVE_DIGITS.findall(text))
    return sum(1 for digits in found if in_.is_valid(digits))


_HALF_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


class MyNumberWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if my_numbers_in(text):
            self.leaks.append(f"{record.name} at {record.pathname}:{record.lineno}")
