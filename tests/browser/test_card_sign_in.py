"""Done when, part one: a new user, in the browser, gets a virtual card and signs in with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.artifacts import save_screenshot

pytestmark = pytest.mark.browser


def test_a_new_user_gets_a_virtual_card_and_signs_in_with_it(page: Page) -> None:
    page.goto("/language/en?next=/card-simulator/cards/new")
    expect(page.get_by_role("note")).to_contain_text("not a real My Number card")
    page.get_by_label("PIN for user authentication (optional)").fill("2580")
    page.get_by_label("Signature password (optional)").fill("MADO2024")
    page.get_by_role("button", name="Issue a virtual card").click()
    card_number = page.locator(".card-number").inner_text().strip()
    assert len(card_number) == 11
    name = page.locator("dd").nth(3).inner_text().strip()

    page.get_by_role("link", name="Sign in with this card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Read your card")
    page.get_by_label("Card number").fill(card_number.lower())  # read forgivingly
    page.get_by_label("PIN for user authentication").fill("2580")
    page.get_by_label("Signature password").fill("mado2024")
    page.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url("**/me")
    expect(page.locator(".account-email")).to_contain_text(name.split()[0])
    save_screenshot(page, "card-sign-in-signed-in")
