"""What the staff page tests share: the credential, form tokens and the accessibility check."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.html import Page, accessibility_problems, get_page

LANGUAGES = ("ja", "en")


def csrf_of(page: Page) -> str:
    return page.find("input", name="csrf_token").attrs["value"]


def token(client: TestClient, url: str) -> str:
    """The form token of this browser, read from a staff page as a person's browser would (in
    the language the browser has chosen)."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    return csrf_of(Page(response.text))


def problems_of(page: Page, language: str) -> list[str]:
    """The accessibility problems of a page, the YAML editor's content excepted: it is code
    (keys in English, texts in Japanese), which the language rule exempts as it does <code>."""
    for editor in page.find_all("textarea"):
        if "yaml" in editor.attrs.get("class", "").split():
            editor.children = []
    return accessibility_problems(page, language)


def checked(response: Response | Page, language: str) -> Page:
    page = response if isinstance(response, Page) else Page(response.text)
    problems = problems_of(page, language)
    assert problems == [], (language, problems)
    return page


def check_page(client: TestClient, url: str, language: str) -> None:
    response, page = get_page(client, url, language)
    assert response.status_code == 200, (url, response.status_code)
    problems = problems_of(page, language)
    assert problems == [], (url, language, problems)


def textarea_text(page: Page) -> str:
    """The textarea's YAML as a browser reads it: the newline after the start tag is not text."""
    editor = page.find("textarea", name="source")
    return "".join(c for c in editor.children if isinstance(c, str)).removeprefix("\n")
