"""The catalogues match the code: every message is translated into Japanese, placeholders agree,
and nothing stale is left behind. The language switch chooses the language of the pages.

Messages are extracted in-process exactly as babel.cfg describes (its first lines give the
command that updates the catalogues), with the error classes as extra keywords.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from madoguchi.core import i18n
from madoguchi.core.errors import MadoguchiError
from madoguchi.tenants import service
from madoguchi.web.app import create_app  # noqa: F401  imports every module that defines errors
from tests.support.html import Page, get_page

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYWORDS = ("InvalidInput", "NotFound", "ServiceUnavailable", "MadoguchiError")
KEYWORDS = {**DEFAULT_KEYWORDS, **dict.fromkeys(ERROR_KEYWORDS)}
LANGUAGES = ("ja", "en")

MessageId = str | tuple[str, ...]


@cache
def extracted() -> dict[MessageId, list[str]]:
    """Each message id in src and the templates, with where it is used."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[MessageId, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(message, []).append(f"{filename}:{line}")
    return found


@cache
def catalogue(language: str) -> Catalog:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def entries(language: str) -> list[Message]:
    return [m for m in catalogue(language) if m.id]


def forms(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_extraction_finds_templates_code_and_error_messages() -> None:
    ids = extracted()

    assert "Skip to main content" in ids  # a template
    assert ("{n} municipality", "{n} municipalities") in ids  # a plural in a template
    assert "The input is not valid" in ids  # N_() in Python
    assert "No public body has the code {code}." in ids  # NotFound(...)
    assert "{value} is not a postal code: enter 7 digits, such as 100-0001." in ids


def test_every_message_has_a_japanese_translation() -> None:
    translated = {m.id for m in entries("ja") if not m.fuzzy and all(forms(m.string))}

    missing = {k: v for k, v in extracted().items() if k not in translated}

    assert missing == {}, "run the command at the top of babel.cfg, then translate"


def test_every_message_is_in_the_english_catalogue() -> None:
    """An empty English translation is allowed: it shows the message id, which is English."""
    missing = {k: v for k, v in extracted().items() if k not in {m.id for m in entries("en")}}

    assert missing == {}, "run the command at the top of babel.cfg"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_stale_or_fuzzy_messages(language: str) -> None:
    stale = [m.id for m in entries(language) if m.id not in extracted()]
    fuzzy = [m.id for m in entries(language) if m.fuzzy]

    assert stale == []
    assert fuzzy == []
    assert not catalogue(language).obsolete


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language: str) -> None:
    differing = [
        (m.id, text)
        for m in entries(language)
        for text in forms(m.string)
        if text and placeholders(text) != set().union(*(placeholders(i) for i in forms(m.id)))
    ]

    assert differing == []


def test_japanese_has_one_plural_form() -> None:
    assert catalogue("ja").num_plurals == 1
    assert catalogue("en").num_plurals == 2


def error_classes(base: type[MadoguchiError] = MadoguchiError) -> list[type[MadoguchiError]]:
    return [base] + [c for sub in base.__subclasses__() for c in error_classes(sub)]


@pytest.mark.parametrize("error", error_classes(), ids=lambda c: c.__name__)
def test_every_error_title_is_translated(error: type[MadoguchiError]) -> None:
    assert i18n.translations("ja").gettext(error.title) != error.title


FAILURES: list[tuple[str, Callable[[], object]]] = [
    ("check digit", lambda: service.parse_tenant_code("011003")),
    ("not a code", lambda: service.parse_tenant_code("札幌!")),
    ("postal code", lambda: service.parse_postal_code("12")),
    ("unknown postal code", lambda: service.lookup_postal_code("0000000")),
]


@pytest.mark.parametrize(("name", "fail"), FAILURES, ids=[name for name, _ in FAILURES])
def test_messages_raised_at_run_time_are_translated(name: str, fail: Callable[[], object]) -> None:
    """Catches a message built in a way extraction cannot follow (joined with +)."""
    with pytest.raises(MadoguchiError) as raised:
        fail()

    message = raised.value.message
    assert i18n.translations("ja").gettext(message) != message, name


def test_messages_are_shown_in_the_chosen_language() -> None:
    i18n.set_language("en")
    english = i18n.ngettext("{n} municipality", "{n} municipalities", 2)
    i18n.set_language("ja")

    assert english == "2 municipalities"
    assert i18n.ngettext("{n} municipality", "{n} municipalities", 2) == "2市区町村"
    assert i18n._("No public body has the code {code}.", code="x") == (
        "コード x の自治体・行政機関は見つかりません。"
    )


# The language switch


def test_switching_language_sets_a_cookie_and_returns_to_the_page(client: TestClient) -> None:
    response = client.get("/language/en?next=/bodies", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/bodies"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=en;")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    client.cookies.set("lang", "en")
    assert Page(client.get("/bodies").text).h1 == "Find a public body"


def test_switching_back_to_japanese(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    response = client.get("/language/ja?next=/prefectures")

    assert response.url.path == "/prefectures"
    assert Page(response.text).h1 == "都道府県"


def test_switch_keeps_the_query_of_the_page(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?q=札幌&kind=designated_city")
    response = client.get(page.find("a", hreflang="en").attrs["href"], follow_redirects=False)

    assert response.headers["location"].startswith("/bodies?q=")
    assert "kind=designated_city" in response.headers["location"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "evil.example",
        "/\t/evil.example",
        "/" + "a" * 3000,
    ],
)
def test_switch_never_redirects_to_another_site(client: TestClient, target: str) -> None:
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_an_unknown_language_falls_back_to_japanese(client: TestClient) -> None:
    response = client.get("/language/fr?next=/", follow_redirects=False)

    assert response.headers["set-cookie"].startswith("lang=ja;")
