"""Sapporo's change-of-address notice in a real browser: the address found from the postal code by
a round trip without JavaScript and in place with it, and household members added and removed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.card_support import sign_in_with_a_new_card
from tests.browser.conftest import Browsers
from tests.browser.test_procedures import (
    answers_on,
    confirm_and_submit,
    press_continue,
    shot,
    start_now,
)

pytestmark = pytest.mark.browser

CHANGE_OF_ADDRESS = "/bodies/011002/procedures/change-of-address"
FIND_ADDRESS = "button[name=_action][value='find-address:address']"
ADD_MEMBER = "button[name=_action][value='add:members']"
FOUND = {"prefecture": "北海道", "municipality": "札幌市中央区", "town": "北一条西"}


def field(page: Page, name: str) -> Locator:
    return page.locator(f"[name='{name}']")


def expect_address_found(page: Page) -> None:
    expect(field(page, "address.postal_code")).to_have_value("060-0001")
    for part, value in FOUND.items():
        expect(field(page, f"address.{part}")).to_have_value(value)


def add_member(page: Page, index: int, given: str, kana: str, born: str, relationship: str) -> None:
    page.locator(ADD_MEMBER).click()
    item = f"members[{index}]."
    field(page, item + "member_name.family").fill("山田")
    field(page, item + "member_name.given").fill(given)
    field(page, item + "member_name.family_kana").fill("ヤマダ")
    field(page, item + "member_name.given_kana").fill(kana)
    field(page, item + "member_birth").fill(born)
    field(page, item + "relationship").select_option(relationship)


def test_change_of_address_without_javascript(
    request: pytest.FixtureRequest, browsers: Browsers
) -> None:
    page = browsers.applicant(javascript=False)
    sign_in_with_a_new_card(page, CHANGE_OF_ADDRESS)  # moving needs the My Number card
    start_now(page, "new_address")
    page.get_by_label("引っ越した日").fill("令和8年11月1日")
    field(page, "address.postal_code").fill("０６０－０００１")

    page.locator(FIND_ADDRESS).click()  # a round trip: the server fills the address

    expect_address_found(page)
    expect(page.get_by_label("引っ越した日")).to_have_value("令和8年11月1日")  # kept
    shot(request, page, "1-address-found")
    field(page, "address.street").fill("2丁目1-1")
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/pages/household$"))
    expect(page.locator(".group-item")).to_have_count(0)

    add_member(page, 0, "花子", "ハナコ", "平成2年5月6日", "spouse")
    add_member(page, 1, "一郎", "イチロウ", "2015-04-01", "child")
    expect(page.locator(".group-item")).to_have_count(2)
    shot(request, page, "2-two-members")
    page.locator("button[name=_action][value='remove:members:0']").click()  # 花子 stays behind
    expect(page.locator(".group-item")).to_have_count(1)
    expect(field(page, "members[0].member_name.given")).to_have_value("一郎")  # moved up
    expect(field(page, "members[0].relationship")).to_have_value("child")
    press_continue(page)

    expect(page).to_have_url(re.compile(r"/check$"))
    answers = answers_on(page)
    assert answers["新しい住所"] == "〒060-0001 北海道札幌市中央区北一条西 2丁目1-1"
    assert answers["一緒に引っ越す人数"] == "1"
    assert "山田 一郎（ヤマダ イチロウ）" in answers["一緒に引っ越す世帯の人"]
    assert "花子" not in page.locator("main").inner_text()
    confirm_and_submit(page)
    expect(page.locator("main")).to_contain_text("山田 一郎（ヤマダ イチロウ）")
    shot(request, page, "3-receipt")


def test_the_postal_code_fills_the_address_in_place_with_javascript(
    request: pytest.FixtureRequest, browsers: Browsers
) -> None:
    page = browsers.applicant()
    sign_in_with_a_new_card(page, CHANGE_OF_ADDRESS)  # moving needs the My Number card
    start_now(page, "new_address")
    page.get_by_label("引っ越した日").fill("2026-11-01")
    field(page, "address.postal_code").fill("０６０－０００１")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    with page.expect_response(re.compile(r"/api/v1/postal-codes/0600001$")) as looked_up:
        page.locator(FIND_ADDRESS).click()

    assert looked_up.value.ok
    expect_address_found(page)
    expect(field(page, "address.street")).to_be_focused()
    expect(page.locator("[data-lookup-status]")).not_to_be_empty()  # said to screen readers
    assert page.evaluate("window.sameDocument") is True, "the page was loaded again"
    shot(request, page, "1-address-found")

    field(page, "address.street").fill("1-1")
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/pages/household$"))
    press_continue(page)  # nobody moves with me
    expect(page).to_have_url(re.compile(r"/check$"))
    assert answers_on(page)["新しい住所"] == "〒060-0001 北海道札幌市中央区北一条西 1-1"
    confirm_and_submit(page)
