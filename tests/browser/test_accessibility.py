"""WCAG 2.1 A and AA, checked by axe-core in the real browser on the portal's pages, in both
languages. axe-core comes from the PyPI package axe-playwright-python, which ships axe.min.js."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.artifacts import artifact_name, save_json, save_screenshot
from tests.browser.test_done_when_hanko import seal_of
from tests.browser.test_procedures import (
    CONSULTATION,
    confirm_and_submit,
    downloaded,
    press_continue,
    start_now,
)

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PAGES = {
    "home": "/",
    "search": "/bodies?q=" + quote("札幌"),
    "sapporo": "/bodies/011002",
    "postal": "/postal-codes?postal_code=060-0001",
    "postal-error": "/postal-codes?postal_code=060-00",
    "sign-in": "/sign-in",
    "me": "/me",
}


@cache
def axe_script() -> str:
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page: Page) -> dict[str, Any]:
    page.evaluate(axe_script())
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    return results


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{', '.join(t for t in violation['tags'] if t.startswith('wcag'))}]"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            if node.get("failureSummary"):
                summary = " ".join(node["failureSummary"].split())
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_meets_wcag_21_aa(
    request: pytest.FixtureRequest, shared_page: Page, name: str, language: str
) -> None:
    path = PAGES[name]
    # The language link's own route sets the cookie, then returns to the page.
    shared_page.goto(f"/language/{language}?next={quote(path, safe='')}")
    assert shared_page.evaluate("document.documentElement.lang") == language

    results = run_axe(shared_page)

    violations = results["violations"]
    save_json(f"axe/{name}-{language}", violations)
    save_screenshot(shared_page, artifact_name(request))
    assert not violations, (
        f"axe {results['testEngine']['version']} found WCAG 2.1 A/AA violations on {path} "
        f"({language}):\n{describe(violations)}"
    )


# --- Pages reached by answering: each function takes a fresh page to the one to check ---------


def question_page(page: Page) -> None:
    page.goto(CONSULTATION)
    start_now(page)


def question_page_with_errors(page: Page) -> None:
    question_page(page)
    press_continue(page)  # nothing chosen
    expect(page.locator(".error-summary")).to_be_visible()


def save_later_page(page: Page) -> None:
    question_page(page)
    page.locator(".save-later a").click()
    expect(page).to_have_url(re.compile(r"/save$"))


def check_page(page: Page) -> None:
    question_page(page)
    page.locator("input[name=anonymous][value=yes]").check()
    press_continue(page)
    page.locator("input[name=topics][value=economy]").check()
    press_continue(page)
    page.locator("textarea[name=opinion_economy]").fill("取引の安全を。")
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))


def receipt_page(page: Page) -> None:
    check_page(page)
    confirm_and_submit(page)


def staff_submissions_page(page: Page) -> None:
    receipt_page(page)  # so that the list has a row
    page.goto("/staff/bodies/soumu/procedures/metaverse-consultation/submissions")
    expect(page.locator("table.results tbody tr").first).to_be_visible()


def approvals_new_page(page: Page) -> None:
    page.goto("/staff/bodies/soumu/approvals/new")
    expect(page.locator("textarea#text")).to_be_visible()


def approval_document_page(page: Page) -> None:
    """A document drafted from the template and sent to one approver: its history shown."""
    approvals_new_page(page)
    page.fill("#title", "公用車の購入について")
    page.fill("#text", "公用車を一台購入したいので、決裁をお願いします。")
    page.select_option("#step_1", "supervisor")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("公用車の購入について")


# --- Verification for anyone ([P4]): the upload page, a result, a sealed document's page -------


def sealed_receipt(page: Page) -> bytes:
    """A submission's receipt PDF, sealed on its first download."""
    receipt_page(page)
    _download, pdf = downloaded(page, "a[href$='/receipt.pdf']")
    return pdf


def verify_page(page: Page) -> None:
    page.goto("/verify")


def verify_result_page(page: Page) -> None:
    pdf = sealed_receipt(page)
    page.goto("/verify")
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    page.locator("form[action='/verify'] button[type=submit]").first.click()
    expect(page.locator(".verdict")).to_be_visible()


def sealed_document_page(page: Page) -> None:
    reference, _stamp = seal_of(sealed_receipt(page))
    page.goto(f"/verify/{reference}")
    expect(page.locator(".verdict")).to_be_visible()


JOURNEY_PAGES: dict[str, Callable[[Page], None]] = {
    "question": question_page,
    "question-errors": question_page_with_errors,
    "save-later": save_later_page,
    "check": check_page,
    "receipt": receipt_page,
    "staff-submissions": staff_submissions_page,
    "staff-approvals-new": approvals_new_page,
    "staff-approval": approval_document_page,
    "verify": verify_page,
    "verify-result": verify_result_page,
    "sealed-document": sealed_document_page,
}


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("name", list(JOURNEY_PAGES))
def test_journey_page_meets_wcag_21_aa(
    request: pytest.FixtureRequest, shared_journey_page: Page, name: str, language: str
) -> None:
    shared_journey_page.goto(f"/language/{language}?next=/")
    JOURNEY_PAGES[name](shared_journey_page)
    assert shared_journey_page.evaluate("document.documentElement.lang") == language

    results = run_axe(shared_journey_page)

    violations = results["violations"]
    save_json(f"axe/{name}-{language}", violations)
    save_screenshot(shared_journey_page, artifact_name(request))
    assert not violations, (
        f"axe {results['testEngine']['version']} found WCAG 2.1 A/AA violations on "
        f"{shared_journey_page.url} ({language}):\n{describe(violations)}"
    )
