"""Forms on server-rendered pages: errors shown in a summary and beside their fields, pagination.

A page checks what was typed with ``FormErrors.attempt``, which collects every problem at once, so
that the form comes back with all of them and with what the person typed still in the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import _
from madoguchi.core.text import fold_width

T = TypeVar("T")

MAX_TEXT_LENGTH = 100
PAGE_WINDOW = 2  # page links shown either side of the current page


@dataclass(frozen=True)
class FormError:
    """A problem shown in the error summary and, when it is about a field, beside that field."""

    message: str
    field: str | None = None
    href: str | None = None  # where the summary links to: the field, or a page that helps

    @classmethod
    def of(cls, error: MadoguchiError, href: str | None = None) -> FormError:
        anchor = f"#{error.field}" if error.field else None
        return cls(_(error.message, **error.params), error.field, href or anchor)


@dataclass
class FormErrors:
    items: list[FormError] = field(default_factory=list)

    def attempt(self, check: Callable[[], T], href: str | None = None) -> T | None:
        """The check's result, or None with its error noted (linked to href, or its field)."""
        try:
            return check()
        except InvalidInput as error:
            self.items.append(FormError.of(error, href))
            return None

    @property
    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.items if e.field}


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    numbers: list[int | None]  # None marks a gap between page numbers


def check_length(value: str, field: str, most: int = MAX_TEXT_LENGTH) -> str:
    if len(value) > most:
        raise InvalidInput("Enter at most {most} characters.", field=field, most=most)
    return value


def page_numbers(page: int, pages: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 36: the first and last pages and a window round the current one."""
    window = range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1)
    numbers: list[int | None] = []
    previous = 0
    for number in sorted({1, pages, *window}):
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


def parse_page_number(value: str, most: int) -> int:
    """A page number as typed in an address (full-width digits too), from 1 to ``most``."""
    text = fold_width(value).strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= most:
        return int(text)
    raise InvalidInput(
        "The page number must be a whole number from 1 to {most}.", field="page", most=most
    )
