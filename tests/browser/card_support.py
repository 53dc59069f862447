"""Signing in with a new virtual card in the real browser, as a resident would: the simulator
issues the card, its reader asks for the PIN and password, and the browser comes back signed in."""

from __future__ import annotations

from playwright.sync_api import Page

PIN = "2580"
PASSWORD = "MADO2024"


def sign_in_with_a_new_card(page: Page, then: str, language: str = "ja") -> str:
    """Get a virtual card, sign in with it, then open ``then`` in ``language``; the card's
    holder's name is returned."""
    page.goto("/language/en?next=/card-simulator/cards/new")
    page.get_by_label("PIN for user authentication (optional)").fill(PIN)
    page.get_by_label("Signature password (optional)").fill(PASSWORD)
    page.get_by_role("button", name="Issue a virtual card").click()
    card_number = page.locator(".card-number").inner_text().strip()
    name = page.locator("dd").nth(3).inner_text().strip()
    page.get_by_role("link", name="Sign in with this card").click()
    page.get_by_label("Card number").fill(card_number)
    page.get_by_label("PIN for user authentication").fill(PIN)
    page.get_by_label("Signature password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/me")
    page.goto(f"/language/{language}?next={then}")
    return name
