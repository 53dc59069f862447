"""The tenants domain's pages: search, a body's page, prefectures and postal code lookup.

Accessibility rules for these pages are checked in tests/web/test_pages.py; here, what a person
sees, and that every bad input is answered with a clear error, the input kept, and never a 500.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support.html import Element, Page, get_page


def result_rows(page: Page) -> list[Element]:
    return page.find("table").find("tbody").find_all("tr")


def codes_of(page: Page) -> list[str]:
    return [row.find("code").text for row in result_rows(page)]


def summary_links(page: Page) -> dict[str, str]:
    summary = page.find("div", class_="error-summary")
    return {a.attrs["href"]: a.text for a in summary.find_all("a")}


# Search


@pytest.mark.parametrize(
    "words", ["札幌", "さっぽろ", "ｻｯﾎﾟﾛ", "サッポロ", "011002", "０１１００２"]
)
def test_search_finds_sapporo_by_name_kana_or_code(client: TestClient, words: str) -> None:
    response, page = get_page(client, f"/bodies?q={words}")

    assert response.status_code == 200
    assert "011002" in codes_of(page)
    row = result_rows(page)[codes_of(page).index("011002")]
    assert row.find("a").text == "札幌市"
    assert row.find("a").attrs["href"] == "/bodies/011002"
    assert "政令指定都市" in row.text
    assert page.find("input", name="q").attrs["value"] == words


def test_search_counts_the_results(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?kind=designated_city")

    assert page.find("h2", id="results-heading").text == "20件見つかりました"
    assert len(result_rows(page)) == 20
    assert page.find("option", value="designated_city").attrs.get("selected") == ""


def test_search_filters_by_kind_and_prefecture(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?kind=village&prefecture=01")

    assert codes_of(page)
    assert all(row.find_all("td")[1].text == "村" for row in result_rows(page))
    assert all(row.find_all("td")[2].text == "北海道" for row in result_rows(page))
    assert page.find("option", value="01").attrs.get("selected") == ""


def test_search_accepts_the_six_digit_prefecture_code(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?prefecture=010006&kind=designated_city")

    assert codes_of(page) == ["011002"]


def test_national_bodies_are_listed_as_national_government(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?q=国税")

    row = result_rows(page)[0]
    assert row.find("a").text == "国税庁"
    assert row.find("span", class_="name-en").attrs["lang"] == "en"
    assert row.find_all("td")[2].text == "国"


def test_no_match_says_so(client: TestClient) -> None:
    response, page = get_page(client, "/bodies?q=存在しない町")

    assert response.status_code == 200
    assert "0件見つかりました" in page.main.text
    assert "当てはまる自治体・行政機関はありません" in page.main.text
    assert not page.find_all("table")


def test_pagination_is_bounded_and_keeps_every_filter(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?q=町&kind=town&prefecture=01&page=2")

    nav = page.find("nav", class_="pagination")
    assert "2ページ目" in nav.text
    links = nav.find_all("a")
    for link in links:
        query = parse_qs(urlsplit(link.attrs["href"]).query)
        assert (query["q"], query["kind"], query["prefecture"]) == (["町"], ["town"], ["01"])
    assert links[0].attrs["rel"] == "prev"
    assert links[-1].attrs["rel"] == "next"
    current = nav.find("a", aria_current="page")
    assert current.text.endswith("2")


def test_long_listing_shows_a_window_of_pages(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?kind=town&page=10")

    nav = page.find("nav", class_="pagination")
    numbers = [a.text.split()[-1] for a in nav.find_all("a") if "rel" not in a.attrs]
    assert numbers[:1] == ["1"]
    assert numbers[1:6] == ["8", "9", "10", "11", "12"]
    assert len(numbers) == 7
    assert nav.find("li", class_="gap")


def test_page_past_the_end_explains_and_links_to_the_last_page(client: TestClient) -> None:
    response, page = get_page(client, "/bodies?kind=designated_city&page=3")

    assert response.status_code == 422
    message = "3ページ目はありません。検索結果は1ページまでです。"
    assert summary_links(page) == {"/bodies?kind=designated_city": message}
    assert not page.find_all("table")


@pytest.mark.parametrize("value", ["x", "0", "-1", "99999", "1.5"])
def test_bad_page_number_is_a_clear_error(client: TestClient, value: str) -> None:
    response, page = get_page(client, f"/bodies?q=札幌&page={value}")

    assert response.status_code == 422
    assert list(summary_links(page).values()) == [
        "ページ番号は1から200までの整数で指定してください。"
    ]
    assert page.find("input", name="q").attrs["value"] == "札幌"


def test_unknown_kind_is_shown_beside_its_field_with_the_rest_kept(client: TestClient) -> None:
    response, page = get_page(client, "/bodies?q=札幌&kind=castle")

    assert response.status_code == 422
    assert summary_links(page) == {
        "#kind": "「castle」という種類はありません。一覧から選んでください。"
    }
    select = page.find("select", name="kind")
    assert select.attrs["aria-invalid"] == "true"
    assert "kind-error" in select.attrs["aria-describedby"].split()
    assert page.by_id("kind-error").text.endswith("一覧から選んでください。")
    assert page.find("input", name="q").attrs["value"] == "札幌"
    assert not page.find_all("table")


def test_every_bad_filter_is_reported_at_once(client: TestClient) -> None:
    response, page = get_page(client, "/bodies?kind=castle&prefecture=99&q=" + "あ" * 101)

    assert response.status_code == 422
    assert list(summary_links(page)) == ["#q", "#kind", "#prefecture"]
    assert "コード「99」の都道府県はありません" in page.by_id("prefecture-error").text
    assert page.find("input", name="q").attrs["value"] == "あ" * 101
    assert "100文字以内" in page.by_id("q-error").text


def test_search_reads_in_english(client: TestClient) -> None:
    _, page = get_page(client, "/bodies?q=札幌", "en")

    assert page.h1 == "Find a public body"
    assert page.find("h2", id="results-heading").text == "1 public body found"
    row = result_rows(page)[codes_of(page).index("011002")]
    assert row.find("a").attrs["lang"] == "ja"
    assert "Designated city" in row.text


# A public body's page


def test_designated_city_lists_its_wards_and_links_its_prefecture(client: TestClient) -> None:
    response, page = get_page(client, "/bodies/011002")

    assert response.status_code == 200
    assert page.h1 == "札幌市"
    assert page.find("p", class_="reading").text == "サッポロシ"
    wards = page.by_id("wards-heading").parent
    assert wards is not None
    assert "中央区" in [li.find("span").text for li in wards.find_all("li")]
    assert "この市には10の区があります。" in wards.text
    facts = page.find("dl", class_="facts")
    assert facts.find("a", href="/bodies/010006").text == "北海道"
    assert "011002" in facts.text
    assert "政令指定都市" in facts.text


def test_prefecture_lists_its_municipalities(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/010006")

    section = page.by_id("municipalities-heading").parent
    assert section is not None
    links = {a.attrs["href"]: a.text for a in section.find_all("a")}
    assert links["/bodies/011002"] == "札幌市"
    assert links["/bodies/012025"] == "函館市"
    assert len(links) == 179
    assert "179市区町村" in section.text


def test_agency_shows_its_ministry_and_the_ministry_its_agencies(client: TestClient) -> None:
    _, agency = get_page(client, "/bodies/nta")
    _, ministry = get_page(client, "/bodies/mof")

    assert agency.h1 == "国税庁"
    assert agency.find("dl", class_="facts").find("a", href="/bodies/mof").text == "財務省"
    assert agency.find("p", class_="name-en").text == "National Tax Agency"
    agencies = ministry.by_id("agencies-heading").parent
    assert agencies is not None
    assert agencies.find("a", href="/bodies/nta").text == "国税庁"


def test_body_page_has_an_empty_procedures_section(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/131016")

    procedures = page.by_id("procedures-heading").parent
    assert procedures is not None
    assert "まだ公開されていません" in procedures.text
    assert "特別区" in page.find("p", class_="kind-tag").text


def test_body_page_reads_in_english(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/nta", "en")

    assert page.find("h1").attrs["lang"] == "ja"
    assert page.find("p", class_="name-en").text == "National Tax Agency"
    assert "Ministry it belongs to" in page.main.text
    assert "Ministry of Finance" in page.main.text
    assert "This public body has not published any online procedures yet." in page.main.text


@pytest.mark.parametrize("typed", ["01100", "０１１００２"])
def test_a_code_typed_another_way_redirects_to_the_page(client: TestClient, typed: str) -> None:
    response = client.get(f"/bodies/{typed}", follow_redirects=False)

    assert response.status_code == 308
    assert response.headers["location"] == "/bodies/011002"


def test_wrong_check_digit_gives_a_friendly_page_that_names_the_problem(
    client: TestClient,
) -> None:
    response, page = get_page(client, "/bodies/011003")

    assert response.status_code == 422
    assert page.h1 == "入力内容に誤りがあります"
    detail = page.find("p", class_="error-detail").text
    assert detail == "011003 の検査数字（最後の1けた）が正しくありません。最後は 2 になるはずです。"


def test_unknown_body_gives_a_friendly_404(client: TestClient) -> None:
    response, page = get_page(client, "/bodies/nowhere", "en")

    assert response.status_code == 404
    assert page.h1 == "Not found"
    assert "No public body has the code nowhere." in page.main.text


# Prefectures


def test_prefectures_page_lists_all_47_with_their_municipalities(client: TestClient) -> None:
    response, page = get_page(client, "/prefectures")

    assert response.status_code == 200
    links = page.main.find_all("a")
    assert len(links) == 47
    assert links[12].text == "東京都 62市区町村"
    assert [h.text for h in page.find_all("h2")][:2] == ["北海道", "東北"]


# Postal codes


def test_postal_code_shows_municipality_and_ward(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=060-0001")

    assert response.status_code == 200
    assert page.find("h2", id="result-heading").text == "〒060-0001"
    row = result_rows(page)[0]
    assert row.find("a", href="/bodies/011002").text == "札幌市"
    assert row.find("a", href="/bodies/010006").text == "北海道"
    assert row.find_all("td")[-1].text == "中央区"
    assert "北一条西" in row.find("th").text
    assert page.find("input", name="postal_code").attrs["value"] == "060-0001"


def test_postal_code_with_several_towns_lists_them_all(client: TestClient) -> None:
    _, page = get_page(client, "/postal-codes?postal_code=0680546")

    towns = [row.find("th").text.split()[0] for row in result_rows(page)]
    assert towns == ["南部青葉町", "南部菊水町"]
    assert "この郵便番号の町域は2件です。" in page.main.text


def test_postal_code_across_two_wards_shows_each(client: TestClient) -> None:
    _, page = get_page(client, "/postal-codes?postal_code=〒004-0000")

    wards = [row.find_all("td")[-1].text for row in result_rows(page)]
    assert wards == ["厚別区", "清田区"]
    assert "（全域）" in result_rows(page)[0].text


def test_postal_code_typed_in_full_width(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=０６０－０００１")

    assert response.status_code == 200
    assert page.find("h2", id="result-heading").text == "〒060-0001"


def test_malformed_postal_code_is_shown_with_the_input_kept(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=12")

    assert response.status_code == 422
    message = "「12」は郵便番号ではありません。100-0001 のように7けたの数字で入力してください。"
    assert summary_links(page) == {"#postal_code": message}
    field = page.find("input", name="postal_code")
    assert field.attrs["value"] == "12"
    assert field.attrs["aria-invalid"] == "true"
    assert field.attrs["aria-describedby"] == "postal_code-hint postal_code-error"
    assert page.by_id("postal_code-error").text == "エラー： " + message


def test_unknown_postal_code_is_a_404_with_the_message(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=000-0000")

    assert response.status_code == 404
    assert summary_links(page) == {"#postal_code": "郵便番号 0000000 の住所は見つかりません。"}
    assert page.find("input", name="postal_code").attrs["value"] == "000-0000"


def test_empty_postal_code_asks_for_one(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=")

    assert response.status_code == 422
    assert summary_links(page) == {"#postal_code": "郵便番号を入力してください。"}


def test_overlong_postal_code_is_a_clear_error(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=" + "1" * 500)

    assert response.status_code == 422
    assert "100文字以内" in page.by_id("postal_code-error").text


def test_postal_page_without_a_code_shows_only_the_form(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes")

    assert response.status_code == 200
    assert not page.find_all("div", class_="error-summary")
    assert page.find("input", name="postal_code").attrs["value"] == ""


def test_postal_errors_read_in_english(client: TestClient) -> None:
    response, page = get_page(client, "/postal-codes?postal_code=12", "en")

    assert response.status_code == 422
    assert page.find("div", class_="error-summary").find("h2").text == "There is a problem"
    assert "12 is not a postal code: enter 7 digits" in page.by_id("postal_code-error").text
