"""Sapporo's change-of-address notice without JavaScript: the address found from its postal code
by a round trip, and household members added and removed as a repeatable group."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.submissions.models import Submission
from tests.submissions.journey_support import (
    answers_shown,
    error_summary,
    field_value,
    form_of,
    inline_errors,
    send,
)
from tests.submissions.test_journey import start
from tests.support.html import Page, accessibility_problems

# Changing one's address needs the My Number card (assurance: high in its definition).
pytestmark = pytest.mark.usefixtures("signed_in_by_card")

SAPPORO = "/bodies/011002/procedures/change-of-address"
HANAKO = {
    "members[0].member_name.family": "山田",
    "members[0].member_name.given": "花子",
    "members[0].member_name.family_kana": "やまだ",
    "members[0].member_name.given_kana": "はなこ",
    "members[0].member_birth": "平成2年5月6日",
    "members[0].relationship": "spouse",
}


def member(index: int, given: str, kana: str, born: str, relationship: str) -> dict[str, str]:
    prefix = f"members[{index}]."
    return {
        prefix + "member_name.family": "山田",
        prefix + "member_name.given": given,
        prefix + "member_name.family_kana": "ヤマダ",
        prefix + "member_name.given_kana": kana,
        prefix + "member_birth": born,
        prefix + "relationship": relationship,
    }


def new_address(client: TestClient, language: str = "ja") -> Page:
    """The first page, with the address found from 060-0001 and the date typed as 和暦."""
    page = start(client, SAPPORO, language)
    typed = {"moved_on": "令和8年11月1日", "address.postal_code": "０６０－０００１"}
    response, page = send(client, page, typed, button="find-address:address")
    assert response.status_code == 200
    found = {part: field_value(page, f"address.{part}") for part in
             ("postal_code", "prefecture", "municipality", "town")}  # fmt: skip
    assert found == {
        "postal_code": "060-0001",
        "prefecture": "北海道",
        "municipality": "札幌市中央区",
        "town": "北一条西",
    }
    assert field_value(page, "moved_on") == "令和8年11月1日", "what was typed is kept"
    return page


def test_the_postal_code_round_trip_and_a_household_of_two(client: TestClient) -> None:
    page = new_address(client)
    response, page = send(
        client, page, {"address.street": "2丁目1-1", "address.building": "札幌ビル 5F"}
    )
    assert str(response.url).endswith("/pages/household"), page.h1
    assert not page.find_all(class_="group-item"), "no household member until one is added"

    response, page = send(client, page, button="add:members")
    response, page = send(client, page, HANAKO, button="add:members")
    response, page = send(
        client, page, member(1, "一郎", "イチロウ", "2015-04-01", "child"), button="add:members"
    )
    assert len(page.find_all(class_="group-item")) == 3
    # Ichiro moves elsewhere: remove him, with Jiro just typed; Jiro moves up into his place
    jiro = member(2, "次郎", "ジロウ", "R2.1.1", "child")
    response, page = send(client, page, jiro, button="remove:members:1")
    assert len(page.find_all(class_="group-item")) == 2
    assert field_value(page, "members[1].member_name.given") == "次郎"
    assert field_value(page, "members[0].member_name.given") == "花子"
    response, check = send(client, page)
    assert str(response.url).endswith("/check"), error_summary(check)

    rows = answers_shown(check)
    assert rows["新しい住所"] == "〒060-0001 北海道札幌市中央区北一条西 2丁目1-1 札幌ビル 5F"
    assert rows["引っ越した日"] == "2026年11月1日 (令和8年)"
    assert rows["一緒に引っ越す人数"] == "2"
    assert "山田 花子（ヤマダ ハナコ）" in check.main.text
    assert "山田 次郎（ヤマダ ジロウ）" in check.main.text and "一郎" not in check.main.text

    response, receipt = send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    assert response.status_code == 200
    assert "〒060-0001" in receipt.main.text and "山田 次郎（ヤマダ ジロウ）" in receipt.main.text


async def test_the_submission_keeps_the_members_in_order(
    client: TestClient, session: AsyncSession
) -> None:
    page = new_address(client)
    _response, page = send(client, page, {"address.street": "1-1"})
    _response, page = send(client, page, button="add:members")
    _response, page = send(client, page, HANAKO, button="add:members")
    _response, page = send(client, page, member(1, "次郎", "ジロウ", "2020-01-01", "child"))
    _response, check = send(client, page)
    send(client, check, {"declaration_confirmed": "yes"}, action_ends="/submit")
    submission = (await session.scalars(select(Submission))).one()
    members = submission.answers["members"]
    assert [m["member_name"]["given"] for m in members] == ["花子", "次郎"]
    assert members[0]["member_name"]["family_kana"] == "ヤマダ"
    assert members[0]["member_birth"] == "1990-05-06"
    assert submission.computed == {"people_moving": 2}
    assert submission.answers["address"]["municipality"]["code"] == "011002"
    assert submission.answers["address"]["ward"]["name"] == "中央区"


def test_continuing_with_only_the_postal_code_fills_the_address_and_asks_for_the_street(
    client: TestClient,
) -> None:
    page = start(client, SAPPORO, "en")
    typed = {"moved_on": "2026-11-01", "address.postal_code": "064-0941"}
    response, page = send(client, page, typed)
    assert response.status_code == 422
    assert field_value(page, "address.town") == "旭ケ丘"
    assert field_value(page, "address.municipality") == "札幌市中央区"
    assert list(inline_errors(page)) == ["address.street"]
    assert page.find("div", class_="error-summary").find("a").attrs["href"] == "#address.street"


def test_an_unknown_postal_code_is_explained_beside_its_box(client: TestClient) -> None:
    page = start(client, SAPPORO, "en")
    response, page = send(
        client, page, {"address.postal_code": "000-0000"}, button="find-address:address"
    )
    assert response.status_code == 422
    assert inline_errors(page) == {
        "address.postal_code": "No address has the postal code 0000000: check the number on a "
        "letter or at Japan Post."
    }
    assert field_value(page, "address.postal_code") == "000-0000"


def test_problems_in_a_group_item_name_the_item(client: TestClient) -> None:
    page = new_address(client, "en")
    response, page = send(client, page, {"address.street": "1-1"})
    response, page = send(client, page, button="add:members")
    typed = {**HANAKO, "members[0].member_name.given_kana": "Hanako", "members[0].relationship": ""}
    response, page = send(client, page, typed)
    assert response.status_code == 422
    assert error_summary(page) == [
        "Household members moving with you 1 – Name: Hanako is not in katakana: write the "
        "reading in katakana, such as ヤマダ.",
        "Household members moving with you 1 – Relationship to you: Choose an option.",
    ]
    links = [a.attrs["href"] for a in page.find("div", class_="error-summary").find_all("a")]
    assert links == ["#members[0].member_name.given_kana", "#members[0].relationship"]
    assert field_value(page, "members[0].member_name.given") == "花子"


def test_an_empty_item_is_dropped_and_the_limits_hold(client: TestClient) -> None:
    page = new_address(client)
    response, page = send(client, page, {"address.street": "1-1"})
    response, page = send(client, page, button="add:members")
    response, check = send(client, page)  # the item was left empty: nobody moves with me
    assert str(response.url).endswith("/check"), error_summary(check)
    assert "一緒に引っ越す人数" in check.main.text


def test_address_and_group_pages_are_accessible(client: TestClient) -> None:
    for language in ("ja", "en"):
        page = new_address(client, language)
        assert accessibility_problems(page, language) == []
        response, page = send(client, page, {"address.street": "1-1"})
        response, page = send(client, page, button="add:members")
        response, page = send(client, page, {"members[0].member_name.family": "山田"})
        assert response.status_code == 422
        assert accessibility_problems(page, language) == []
        assert form_of(page).button("remove:members:0")
