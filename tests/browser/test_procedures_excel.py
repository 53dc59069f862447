"""An Excel template becomes an online form, in a real browser: an official uploads the workbook,
reviews and corrects the drafted YAML, saves and publishes it; an applicant then finds the form on
Sapporo's page and starts it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browsers
from tests.browser.test_procedures import shot, start_now
from tests.procedures import templates

pytestmark = pytest.mark.browser

SAPPORO_STAFF = "/staff/bodies/011002"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "「○○基本計画（案）」に対する意見提出様式"
PLACEHOLDER = "ja: Excel様式「「○○基本計画（案）」に対する意見提出様式」から作成した下書きです。"
SUMMARY = "ja: 基本計画（案）について、市民の皆さまのご意見を募集します。"


def test_an_excel_template_becomes_an_online_form(
    request: pytest.FixtureRequest, browsers: Browsers
) -> None:
    official = browsers.official()
    official.goto(SAPPORO_STAFF)
    official.locator(f"a[href='{SAPPORO_STAFF}/procedures/from-excel']").first.click()
    official.locator("input[name=file]").set_input_files(
        files=[
            {"name": "意見提出様式.xlsx", "mimeType": XLSX, "buffer": templates.public_comment()}
        ]
    )
    official.locator("input[name=slug]").fill("iken")
    official.locator("form:has(input[name=step][value=upload]) button[type=submit]").click()

    source = official.locator("textarea[name=source]")
    expect(source).to_contain_text("type: long_text")
    expect(official.locator("ul.notes li")).to_have_count(2)  # what the reader could not use
    shot(request, official, "1-review")
    assert PLACEHOLDER in source.input_value()
    source.fill(source.input_value().replace(PLACEHOLDER, SUMMARY))
    official.locator("form:has(input[name=step][value=save]) button[type=submit]").click()

    versions = f"{SAPPORO_STAFF}/procedures/iken/versions"
    expect(official).to_have_url(re.compile(re.escape(versions) + r"\?done=saved&version=1$"))
    applicant = browsers.applicant()
    applicant.goto("/bodies/011002")
    expect(applicant.get_by_role("link", name=TITLE)).to_have_count(0)  # a draft is not offered

    official.locator(f"form[action='{versions}/1/publish'] button").click()
    expect(official).to_have_url(re.compile(re.escape(versions) + r"\?done=published&version=1$"))
    shot(request, official, "2-published")

    applicant.reload()
    applicant.get_by_role("link", name=TITLE).click()
    expect(applicant).to_have_url(re.compile(r"/bodies/011002/procedures/iken$"))
    expect(applicant.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(applicant.locator("main")).to_contain_text(SUMMARY.removeprefix("ja: "))
    start_now(applicant, "page1")
    expect(applicant.get_by_label("所属")).to_be_visible()
    expect(applicant.get_by_label("ご意見")).to_be_visible()
    expect(applicant.get_by_role("radio", name="全体について")).to_be_visible()
    shot(request, applicant, "3-first-page")
