"""Residents' journeys in a real browser, by mouse and by keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.artifacts import artifact_name, save_screenshot

pytestmark = pytest.mark.browser

SAPPORO = "/bodies/011002"
MAX_TABS = 60

# What the focused element is, and whether focus can be seen on it (outline or box-shadow).
FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    type: element.getAttribute("type"),
    href: element.getAttribute("href"),
    classes: element.getAttribute("class") || "",
    text: (element.innerText || element.value || "").trim().slice(0, 60),
    outlineStyle: style.outlineStyle,
    outlineWidth: style.outlineWidth,
    boxShadow: style.boxShadow,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    result: dict[str, Any] | None = page.evaluate(FOCUSED)
    return result


def focus_is_visible(element: dict[str, Any]) -> bool:
    outline = element["outlineStyle"] != "none" and element["outlineWidth"] not in ("0px", "")
    return outline or element["boxShadow"] not in ("none", "")


def assert_focus_visible(element: dict[str, Any] | None) -> dict[str, Any]:
    assert element is not None, "Tab moved focus to nothing"
    assert focus_is_visible(element), f"focus cannot be seen on {element}"
    assert element["onScreen"], f"the focused element is not on the screen: {element}"
    return element


def tab(page: Page) -> dict[str, Any]:
    page.keyboard.press("Tab")
    return assert_focus_visible(focused(page))


def tab_until(page: Page, wanted: str, matches: Any) -> dict[str, Any]:
    """Presses Tab until the focused element matches; every stop on the way shows its focus."""
    seen = []
    for _ in range(MAX_TABS):
        element = tab(page)
        if matches(element):
            return element
        seen.append(element["href"] or element["id"] or element["tag"])
    pytest.fail(f"{wanted} was not reached by Tab in {MAX_TABS} presses; focus went to {seen}")


def test_find_sapporo_and_read_it_in_english(request: pytest.FixtureRequest, page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("札幌")
    search.get_by_role("button").click()

    expect(page).to_have_url(re.compile(r"/bodies\?q=%E6%9C%AD%E5%B9%8C"))
    page.get_by_role("link", name="札幌市", exact=True).click()

    expect(page).to_have_url(re.compile(f"{SAPPORO}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("札幌市")
    expect(page.get_by_text("中央区", exact=False).first).to_be_visible()

    page.get_by_role("link", name="English", exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(f"{SAPPORO}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("札幌市")
    expect(page.get_by_text("011002", exact=True).first).to_be_visible()
    expect(page.get_by_text("中央区", exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name="日本語", exact=True)).to_be_visible()
    save_screenshot(page, artifact_name(request))


def test_the_same_journey_by_keyboard_alone(request: pytest.FixtureRequest, page: Page) -> None:
    page.goto("/")

    skip = tab(page)
    assert skip["tag"] == "a", f"the first element Tab reaches must be the skip link: {skip}"
    assert skip["href"] == "#main", f"the first element Tab reaches must be the skip link: {skip}"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    tab_until(page, "the search field", lambda e: e["tag"] == "input" and e["type"] == "search")
    page.keyboard.type("札幌")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/bodies\?q="))
    expect(page.get_by_role("link", name="札幌市", exact=True)).to_be_visible()

    tab_until(page, "the link to 札幌市", lambda e: e["href"] == SAPPORO)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"{SAPPORO}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("札幌市")

    tab_until(page, "the language link", lambda e: (e["href"] or "").startswith("/language/en"))
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_load_state()

    expect(page).to_have_url(re.compile(f"{SAPPORO}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("札幌市")
    expect(page.get_by_text("中央区", exact=False).first).to_be_visible()
    save_screenshot(page, artifact_name(request))


def test_postal_code_lookup_keeps_a_bad_code_and_finds_a_good_one(
    request: pytest.FixtureRequest, page: Page
) -> None:
    page.goto("/")
    field = page.locator("input[name=postal_code]")
    field.fill("060-00")
    field.press("Enter")

    page.wait_for_url(re.compile(r"/postal-codes\?postal_code="))
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#postal_code")
    field = page.locator("input[name=postal_code]")
    expect(field).to_have_value("060-00")
    expect(field).to_have_attribute("aria-invalid", "true")
    save_screenshot(page, artifact_name(request) + "-error")

    summary.get_by_role("link").click()
    expect(field).to_be_focused()
    field.fill("060-0001")
    field.press("Enter")

    page.wait_for_url(re.compile(r"postal_code=060-0001"))
    expect(page.get_by_role("alert")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="中央区")
    expect(row.first).to_be_visible()
    expect(row.first.get_by_role("link", name="札幌市", exact=True)).to_be_visible()
    expect(page.locator("input[name=postal_code]")).to_have_value("060-0001")
    save_screenshot(page, artifact_name(request))
