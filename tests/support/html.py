"""Reading the portal's HTML in tests: a small parser and the accessibility rules we check.

The rules follow WCAG 2.1 AA / JIS X 8341-3 where they can be checked from markup alone; axe-core
in the browser tests checks what needs rendering (contrast, focus).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import pairwise

from fastapi.testclient import TestClient
from httpx import Response

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,.']+[A-Za-z]{2,})+")
# An email address, a domain or a URL is in no human language (WCAG 3.1.2 leaves them out).
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:jp|com|org|net)\b")
FOCUSABLE_CONTROLS = {"input", "select", "textarea"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self._raw_text().split())

    def _raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c._raw_text() for c in self.children)

    @property
    def lang(self) -> str | None:
        """The language in effect here: the nearest lang attribute up the tree."""
        node: Element | None = self
        while node is not None:
            if "lang" in node.attrs:
                return node.attrs["lang"]
            node = node.parent
        return None

    def inside(self, tag: str) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == tag:
                return True
            node = node.parent
        return False

    def iter(self) -> list[Element]:
        found = [self]
        for child in self.children:
            if isinstance(child, Element):
                found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(name) == value for name, value in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def texts(self) -> list[tuple[str, Element]]:
        """Every piece of text with the element that holds it."""
        pieces: list[tuple[str, Element]] = []
        for child in self.children:
            if isinstance(child, str):
                if child.strip():
                    pieces.append((child.strip(), self))
            else:
                pieces.extend(child.texts())
        return pieces


class Page(HTMLParser):
    """An HTML document as a tree; ``problems`` lists tags that were not closed in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.problems: list[str] = []
        self.feed(html)
        self.close()
        self.problems += [f"<{e.tag}> is never closed" for e in self.stack[1:]]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return self.root.find_all(tag, **attrs)

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        return self.root.find(tag, **attrs)

    def by_id(self, element_id: str) -> Element:
        return self.find(id=element_id)

    @property
    def h1(self) -> str:
        return self.find("h1").text

    @property
    def main(self) -> Element:
        return self.find("main")


def get_page(client: TestClient, url: str, language: str = "ja") -> tuple[Response, Page]:
    client.cookies.set("lang", language)
    response = client.get(url)
    return response, Page(response.text)


def accessibility_problems(page: Page, language: str) -> list[str]:
    """What the HTML itself shows against the rules; an empty list when the page keeps them."""
    checks = (
        _structure,
        _landmarks,
        _headings,
        _references,
        _labels,
        _tables,
        _names,
        _no_inline_code,
    )
    found = list(page.problems)
    for check in checks:
        found += check(page)
    return found + language_of_parts(page, language)


def _structure(page: Page) -> list[str]:
    found = []
    title = page.find_all("title")
    if len(title) != 1 or not title[0].text:
        found.append("the page needs one non-empty <title>")
    if len(page.find_all("h1")) != 1:
        found.append(f"{len(page.find_all('h1'))} <h1> elements; there must be one")
    ids = Counter(e.attrs["id"] for e in page.find_all() if "id" in e.attrs)
    found += [f"id {i!r} is used {n} times" for i, n in ids.items() if n > 1]
    first_link = page.find("body").find_all("a")[0]
    if first_link.attrs.get("href") != "#main" or "skip-link" not in first_link.attrs["class"]:
        found.append("the first link must be the skip link to #main")
    return found


def _landmarks(page: Page) -> list[str]:
    found = [
        f"no <{tag}> landmark" for tag in ("header", "nav", "footer") if not page.find_all(tag)
    ]
    mains = page.find_all("main")
    if len(mains) != 1 or mains[0].attrs.get("id") != "main":
        found.append("there must be one <main id='main'>")
    navs = page.find_all("nav")
    names = [n.attrs.get("aria-label") or n.attrs.get("aria-labelledby") for n in navs]
    if len(navs) > 1 and (None in names or len(set(names)) != len(names)):
        found.append(f"each <nav> needs its own name, got {names}")
    return found


def _headings(page: Page) -> list[str]:
    levels = [int(e.tag[1]) for e in page.find_all() if re.fullmatch(r"h[1-6]", e.tag)]
    skips = [(a, b) for a, b in pairwise(levels) if b > a + 1]
    empty = [e.tag for e in page.find_all() if re.fullmatch(r"h[1-6]", e.tag) and not e.text]
    return [f"heading level jumps from h{a} to h{b}" for a, b in skips] + [
        f"empty <{tag}>" for tag in empty
    ]


def _references(page: Page) -> list[str]:
    ids = {e.attrs["id"] for e in page.find_all() if "id" in e.attrs}
    found = []
    for element in page.find_all():
        for attribute in ("aria-describedby", "aria-labelledby"):
            found += [
                f"{attribute} names missing id {ref!r}"
                for ref in element.attrs.get(attribute, "").split()
                if ref not in ids
            ]
        href = element.attrs.get("href", "") if element.tag == "a" else ""
        if href.startswith("#") and len(href) > 1 and href[1:] not in ids:
            found.append(f"link to missing #{href[1:]}")
    return found


def _labels(page: Page) -> list[str]:
    labelled = {label.attrs.get("for") for label in page.find_all("label")}
    found = []
    for control in page.find_all():
        if control.tag not in FOCUSABLE_CONTROLS or control.attrs.get("type") == "hidden":
            continue
        has_name = control.attrs.get("id") in labelled or "aria-label" in control.attrs
        if not has_name:
            found.append(f"<{control.tag} name={control.attrs.get('name')!r}> has no label")
        if control.attrs.get("aria-invalid") == "true" and not any(
            ref.endswith("-error") for ref in control.attrs.get("aria-describedby", "").split()
        ):
            found.append(f"invalid <{control.tag}> is not described by its error message")
    return found


def _tables(page: Page) -> list[str]:
    found = []
    for table in page.find_all("table"):
        headers = table.find_all("th")
        if not headers:
            found.append("a table without header cells")
        found += [
            f"<th> {th.text!r} has no scope"
            for th in headers
            if th.attrs.get("scope") not in ("col", "row")
        ]
    return found


def _names(page: Page) -> list[str]:
    found = [f"link to {a.attrs.get('href')} has no text" for a in page.find_all("a") if not a.text]
    found += ["a button has no text" for b in page.find_all("button") if not b.text]
    found += ["an image has no alt" for img in page.find_all("img") if "alt" not in img.attrs]
    return found


def _no_inline_code(page: Page) -> list[str]:
    """The CSP allows no inline style or script: a script may only be loaded from /static/
    (and the pages must work without it, which the journeys test without JavaScript)."""
    found = ["<style> element" for _ in page.find_all("style")]
    found += [
        "inline <script> element"
        for script in page.find_all("script")
        if script.text.strip() or not script.attrs.get("src", "").startswith("/static/")
    ]
    found += [f"style attribute on <{e.tag}>" for e in page.find_all() if "style" in e.attrs]
    found += [
        f"{name} handler on <{e.tag}>"
        for e in page.find_all()
        for name in e.attrs
        if name.startswith("on")
    ]
    return found


def language_of_parts(page: Page, language: str) -> list[str]:
    """Text in the other language is marked with its own lang (WCAG 3.1.2)."""
    found = []
    body = page.find("body")
    for text, holder in body.texts():
        if holder.tag == "code" or holder.inside("code"):
            continue
        if language == "en" and JAPANESE.search(text) and holder.lang != "ja":
            found.append(f"Japanese text {text!r} is not marked lang='ja'")
        english = ENGLISH_PHRASE.search(ADDRESS.sub("", text))
        if language == "ja" and english and holder.lang != "en":
            found.append(f"English text {text!r} is not marked lang='en'")
    return found
