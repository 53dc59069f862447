"""Every portal page, in Japanese and in English, keeps the accessibility rules (WCAG 2.1 AA,
JIS X 8341-3) that can be checked from its HTML; the home page, error pages, API documentation
and security headers each do what people expect of them.

The HTML reading and the rules live in tests/support/html.py.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support.html import Page, accessibility_problems, get_page, language_of_parts

BROKEN_PAGE = """<!doctype html><html lang="en"><head><title>x</title></head><body>
<a href="/">Home</a><header></header><main id="main"><h1>One</h1><h3>Skipped</h3>
<p style="color:red">札幌</p><input id="q" aria-describedby="nowhere"><table><tr><th>A</th></tr>
</table><div></main><script>alert(1)</script></body></html>"""


def test_the_checker_finds_what_breaks_the_rules() -> None:
    problems = accessibility_problems(Page(BROKEN_PAGE), "en")

    assert problems == [
        "</main> closes <div>",
        "</body> closes <div>",
        "</html> closes <div>",
        "<html> is never closed",
        "<body> is never closed",
        "<main> is never closed",
        "<div> is never closed",
        "the first link must be the skip link to #main",
        "no <nav> landmark",
        "no <footer> landmark",
        "heading level jumps from h1 to h3",
        "aria-describedby names missing id 'nowhere'",
        "<input name=None> has no label",
        "<th> 'A' has no scope",
        "inline <script> element",
        "style attribute on <p>",
        "Japanese text '札幌' is not marked lang='ja'",
    ]


def test_the_checker_finds_unmarked_english_on_japanese_pages() -> None:
    page = Page('<html lang="ja"><body><p>Ministry of Finance</p><p lang="en">Tax Agency</p>')

    assert language_of_parts(page, "ja") == [
        "English text 'Ministry of Finance' is not marked lang='en'"
    ]


PAGES = (
    "/",
    "/bodies",
    "/bodies?q=札幌",
    "/bodies?kind=town&prefecture=01&page=2",
    "/bodies?q=zzzzzz",
    "/bodies?kind=castle&prefecture=99&page=x",
    "/bodies/011002",
    "/bodies/010006",
    "/bodies/131016",
    "/bodies/nta",
    "/bodies/mof",
    "/prefectures",
    "/postal-codes",
    "/postal-codes?postal_code=060-0001",
    "/postal-codes?postal_code=0040000",
    "/postal-codes?postal_code=12",
    "/postal-codes?postal_code=0000000",
    "/api/docs",
    "/bodies/011003",
    "/nope",
)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("url", PAGES)
def test_page_keeps_the_accessibility_rules(client: TestClient, url: str, language: str) -> None:
    response, page = get_page(client, url, language)

    assert response.headers["content-type"].startswith("text/html")
    assert page.find("html").attrs["lang"] == language
    assert accessibility_problems(page, language) == []


@pytest.mark.parametrize("url", PAGES)
def test_every_page_links_to_the_other_language_from_where_it_is(
    client: TestClient, url: str
) -> None:
    _, page = get_page(client, url)

    switch = page.find("a", hreflang="en")
    assert switch.attrs["lang"] == "en"
    target = urlsplit(switch.attrs["href"])
    assert target.path == "/language/en"
    assert [unquote(n) for n in parse_qs(target.query)["next"]] == [url]


def test_home_explains_madoguchi_and_offers_search_postal_lookup_and_prefectures(
    client: TestClient,
) -> None:
    response, page = get_page(client, "/")

    assert response.status_code == 200
    assert page.h1 == "全国の役所の手続きを、オンラインで"
    assert "オンラインの窓口です" in page.main.text
    search = page.find("form", action="/bodies")
    assert search.find("input", name="q").attrs["type"] == "search"
    assert page.find("form", action="/postal-codes").find("input", name="postal_code")
    links = [a for a in page.main.find_all("a") if a.attrs["href"].startswith("/bodies/")]
    assert len(links) == 47
    assert links[0].text == "北海道 179市区町村"


def test_home_in_english(client: TestClient) -> None:
    _, page = get_page(client, "/", "en")

    assert page.h1 == "Government procedures online, for every public body in Japan"
    assert "Browse by prefecture" in page.main.text
    hokkaido = page.find("a", href="/bodies/010006")
    assert hokkaido.text == "北海道 179 municipalities"
    assert hokkaido.find("span", lang="ja").text == "北海道"


def test_unknown_address_gives_a_friendly_404_page(client: TestClient) -> None:
    response, page = get_page(client, "/nope")

    assert response.status_code == 404
    assert page.h1 == "見つかりません"
    assert "このアドレスのページは見つかりません" in page.main.text
    assert page.main.find("a", href="/bodies")


def test_unknown_address_in_english(client: TestClient) -> None:
    response, page = get_page(client, "/nope", "en")

    assert response.status_code == 404
    assert page.h1 == "Not found"
    assert "There is no page at this address." in page.main.text


@pytest.mark.parametrize("language", ["ja", "en"])
def test_other_http_errors_are_explained_in_the_readers_language(
    client: TestClient, language: str
) -> None:
    client.cookies.set("lang", language)
    response = client.post("/bodies")
    page = Page(response.text)

    assert response.status_code == 405
    assert "Method Not Allowed" not in page.main.text
    expected = "このリクエストにはお答えできません" if language == "ja" else "cannot be answered"
    assert expected in page.h1
    assert accessibility_problems(page, language) == []


@pytest.mark.parametrize("url", ["/", "/bodies?q=札幌", "/nope", "/postal-codes?postal_code=12"])
def test_pages_carry_the_security_headers(client: TestClient, url: str) -> None:
    headers = client.get(url).headers

    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_stylesheets_and_icon_are_served(client: TestClient) -> None:
    home = client.get("/").text
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', home)
    css = ""
    for sheet in sheets:
        response = client.get(sheet)
        assert response.status_code == 200, sheet
        assert response.headers["content-type"].startswith("text/css")
        css += response.text

    assert len(sheets) == 5  # madoguchi, layout, components, journey, staff
    assert ":focus-visible" in css
    assert ".skip-link:focus" in css
    assert client.get("/static/favicon.svg").status_code == 200


def test_api_docs_list_every_operation_and_shape(client: TestClient) -> None:
    response, page = get_page(client, "/api/docs")

    assert response.status_code == 200
    assert page.h1 == "API の説明"
    headings = [h.text for h in page.find_all("h3")]
    assert "GET /api/v1/tenants" in headings
    assert "GET /api/v1/postal-codes/{postal_code}" in headings
    assert "TenantKind" in headings
    kinds = page.by_id("schema-TenantKind").parent
    assert kinds is not None
    assert "designated_city" in kinds.text
    assert page.find("a", href="#schema-TenantList")


def test_api_docs_mark_the_documents_english_on_japanese_pages(client: TestClient) -> None:
    _, page = get_page(client, "/api/docs")

    description = page.find("p", lang="en")
    assert "problem+json" in description.text
    assert description.find("span", lang="ja").text == "窓口"
    assert description.find("code").text == "code"


def test_api_docs_in_english(client: TestClient) -> None:
    _, page = get_page(client, "/api/docs", "en")

    assert page.h1 == "API documentation"
    assert "Parameters" in page.main.text
    assert "at most 100" in page.main.text
