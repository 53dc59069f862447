"""Translations: English message ids, Japanese by default, chosen per request.

Catalogues are the ``.po`` files under ``madoguchi/locale``; they are compiled in memory at start,
so there is no build step and no binary file in the repository. Mark a string for extraction with
``_`` (translate now) or ``N_`` (translate later, where it is shown).
"""

from __future__ import annotations

import gettext as gettext_module
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: ContextVar[Language] = ContextVar("language", default="ja")


def parse_language(value: str | None) -> Language | None:
    """``ja`` or ``en`` from a cookie, query or Accept-Language value; None when neither."""
    for part in (value or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return None


def set_language(language: Language) -> None:
    _current.set(language)


def current_language() -> Language:
    return _current.get()


@cache
def translations(language: Language) -> gettext_module.NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def _(message: str, **params: Any) -> str:
    """The message in the current language, with ``{name}`` placeholders filled."""
    text = translations(current_language()).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message
