"""Staff read submissions: a body's procedures, the list with its filters and pages, and one
submission with its answers, attachments and audit record; never another body's."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.files import FileStore
from tests.staff.support import LANGUAGES, check_page, checked
from tests.submissions.export_support import (
    MY_NUMBER,
    committed,
    grant_answers,
    grant_procedure,
    said,
    submit_grant,
    submit_opinion,
)
from tests.support.html import Page, get_page
from tests.support.samples import PDF, PNG

JST = dt.timezone(dt.timedelta(hours=9))
OPINIONS = "/staff/bodies/soumu/procedures/metaverse-consultation/submissions"
GRANTS = "/staff/bodies/131016/procedures/child-grant/submissions"


async def _three_opinions(database_url: str) -> dict[str, str]:
    """Three opinions on three days; their references by the name given."""
    async with committed(database_url) as session:
        made = {
            name: await submit_opinion(session, name, submitted_at=at, email=email)
            for name, at, email in (
                ("山田 花子", dt.datetime(2026, 12, 1, 9, 0, tzinfo=JST), "hanako@example.jp"),
                ("佐藤 太郎", dt.datetime(2026, 12, 5, 23, 59, tzinfo=JST), None),
                ("鈴木 一郎", dt.datetime(2026, 12, 9, 0, 1, tzinfo=JST), None),
            )
        }
        return {name: submission.reference for name, submission in made.items()}


def _references(page: Page) -> list[str]:
    return [
        code.text
        for code in page.main.find_all("code")
        if re.fullmatch(r"\w{4}-\w{4}-\w", code.text)
    ]


# --- Choosing a body and its procedures -------------------------------------------------------


def test_an_official_sees_the_bodies_they_work_for(staff: TestClient) -> None:
    _, page = get_page(staff, "/staff?q=函館市")  # only platform administrators search
    links = [a.attrs.get("href") for a in page.main.find_all("a")]
    assert {"/staff/bodies/011002", "/staff/bodies/131016", "/staff/bodies/soumu"} <= set(links)
    assert "/staff/bodies/012025" not in links
    assert page.find_all("input", name="q") == []


def test_platform_administrators_find_any_body_by_name_or_code(
    platform_admin: TestClient,
) -> None:
    staff = platform_admin
    _, page = get_page(staff, "/staff?q=札幌市")
    assert "/staff/bodies/011002" in [a.attrs.get("href") for a in page.main.find_all("a")]
    _, page = get_page(staff, "/staff?q=011002")
    assert "/staff/bodies/011002" in [a.attrs.get("href") for a in page.main.find_all("a")]
    response, page = get_page(staff, "/staff?q=" + "あ" * 101)
    assert response.status_code == 422
    assert page.find("input", name="q").attrs["aria-invalid"] == "true"


async def test_a_body_lists_its_procedures_with_their_submissions(
    staff: TestClient, database_url: str
) -> None:
    await _three_opinions(database_url)

    _, page = get_page(staff, "/staff/bodies/soumu", "en")

    row = next(tr for tr in page.main.find_all("tr") if "metaverse" in tr.text.lower())
    assert "3 submissions" in row.text
    links = [a.attrs["href"] for a in row.find_all("a")]
    assert OPINIONS in links
    assert "/staff/bodies/soumu/procedures/metaverse-consultation/versions" in links


def test_a_municipality_sees_the_template_it_adopted(staff: TestClient) -> None:
    _, page = get_page(staff, "/staff/bodies/011002", "en")
    row = next(tr for tr in page.main.find_all("tr") if "moving" in tr.text.lower())
    assert "Adopted national template" in row.text
    assert "0 submissions" in row.text
    assert not any(a.attrs["href"].endswith("/versions") for a in row.find_all("a"))


def test_a_body_code_typed_another_way_goes_to_its_page(staff: TestClient) -> None:
    response = staff.get("/staff/bodies/01100", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/staff/bodies/011002"
    assert staff.get("/staff/bodies/011003").status_code == 422  # a wrong check digit


# --- The list -----------------------------------------------------------------------------------


async def test_the_list_shows_each_submission_newest_first(
    staff: TestClient, database_url: str
) -> None:
    references = await _three_opinions(database_url)

    response, page = get_page(staff, OPINIONS, "ja")

    assert response.status_code == 200
    assert _references(page) == [references[n] for n in ("鈴木 一郎", "佐藤 太郎", "山田 花子")]
    first = page.main.find("tbody").find_all("tr")[0]
    assert "2026年12月9日 (令和8年) 00:01" in first.text  # in Japan's time, with the era
    assert "鈴木 一郎" in first.text  # the summary names who wrote
    assert said("Online form") in first.text
    link = first.find("a").attrs["href"]
    assert staff.get(link).status_code == 200


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("from=2026-12-05", ["鈴木 一郎", "佐藤 太郎"]),
        ("to=令和8年12月5日", ["佐藤 太郎", "山田 花子"]),  # the whole day, in Japan's time
        ("from=2026-12-02&to=2026-12-08", ["佐藤 太郎"]),
        ("q=佐藤", ["佐藤 太郎"]),
        ("q=HANAKO@EXAMPLE.JP", ["山田 花子"]),
        ("q=nobody", []),
    ],
)
async def test_filters_and_search_narrow_the_list(
    staff: TestClient, database_url: str, query: str, names: list[str]
) -> None:
    references = await _three_opinions(database_url)

    _, page = get_page(staff, f"{OPINIONS}?{query}")

    assert _references(page) == [references[name] for name in names]


async def test_a_reference_typed_loosely_finds_its_submission(
    staff: TestClient, database_url: str
) -> None:
    references = await _three_opinions(database_url)
    loose = references["佐藤 太郎"].replace("-", "").lower()

    _, page = get_page(staff, f"{OPINIONS}?q={loose}")

    assert _references(page) == [references["佐藤 太郎"]]


async def test_the_exports_get_the_same_filters(staff: TestClient, database_url: str) -> None:
    await _three_opinions(database_url)

    _, page = get_page(staff, f"{OPINIONS}?q=佐藤&from=令和8年12月2日&page=1")

    links = [a.attrs["href"] for a in page.main.find("ul", class_="export-links").find_all("a")]
    query = "from=2026-12-02&q=%E4%BD%90%E8%97%A4"
    assert links == [
        f"{OPINIONS}.csv?{query}",
        f"{OPINIONS}.xlsx?{query}",
        f"{OPINIONS}.json?{query}",
        f"{OPINIONS}/in-template.xlsx?{query}",
    ]
    exported = staff.get(links[2]).json()
    assert [item["reference"] for item in exported] == _references(page)


def test_a_bad_filter_is_shown_beside_its_field_with_what_was_typed(staff: TestClient) -> None:
    response, page = get_page(staff, f"{OPINIONS}?from=yesterday&q=山田", "en")

    assert response.status_code == 422
    summary = page.find("div", class_="error-summary")
    assert summary.find("a").attrs["href"] == "#from"
    field = page.find("input", id="from")
    assert field.attrs["value"] == "yesterday"
    assert field.attrs["aria-invalid"] == "true"
    assert page.find("input", id="q").attrs["value"] == "山田"
    assert not page.main.find_all("table")


async def test_pages_of_submissions(staff: TestClient, database_url: str) -> None:
    async with committed(database_url) as session:
        start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST)
        for n in range(27):
            await submit_opinion(
                session, f"応募者{n:02d}", submitted_at=start + dt.timedelta(hours=n)
            )

    _, first = get_page(staff, f"{OPINIONS}?q=応募者")
    response, second = get_page(staff, f"{OPINIONS}?q=応募者&page=2")

    assert len(_references(first)) == 25
    assert response.status_code == 200
    assert len(_references(second)) == 2
    assert set(_references(first)).isdisjoint(_references(second))
    pager = first.find("nav", class_="pagination")
    assert f"{OPINIONS}?q=%E5%BF%9C%E5%8B%9F%E8%80%85&page=2" in [
        a.attrs["href"] for a in pager.find_all("a")
    ]
    beyond, page = get_page(staff, f"{OPINIONS}?q=応募者&page=3")
    assert beyond.status_code == 422
    assert page.find("div", class_="error-summary").find("a").attrs["href"].endswith("page=2")
    assert get_page(staff, f"{OPINIONS}?page=zero")[0].status_code == 422


# --- One submission -----------------------------------------------------------------------------


async def _grant_with_files(database_url: str, store: FileStore) -> str:
    async with committed(database_url) as session:
        await grant_procedure(session)
        submission = await submit_grant(
            session, store, grant_answers(), files=(("住民票.pdf", PDF), ("写真.png", PNG))
        )
        return str(submission.id)


async def test_one_submission_shows_every_answer_and_my_number_only_masked(
    staff: TestClient, database_url: str, store: FileStore
) -> None:
    submission_id = await _grant_with_files(database_url, store)

    response, page = get_page(staff, f"/staff/bodies/131016/submissions/{submission_id}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    text = page.main.text
    for shown in (
        "山田 花子（ヤマダ ハナコ）",
        "窓口ハイツ101",
        "山田 一郎",
        "送迎",
        "●●●● ●●●● 9018",
    ):
        assert shown in text
    assert MY_NUMBER not in response.text
    assert "submitted" in [code.text for code in page.main.find_all("code")]  # the audit record


async def test_attachments_download_as_they_were_sent(
    staff: TestClient, database_url: str, store: FileStore
) -> None:
    submission_id = await _grant_with_files(database_url, store)
    _, page = get_page(staff, f"/staff/bodies/131016/submissions/{submission_id}")
    links = {
        a.text: a.attrs["href"] for a in page.main.find_all("a") if "/files/" in a.attrs["href"]
    }
    assert set(links) == {"住民票.pdf", "写真.png"}

    pdf = staff.get(links["住民票.pdf"])
    png = staff.get(links["写真.png"])

    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E4%BD%8F%E6%B0%91%E7%A5%A8.pdf" in pdf.headers["content-disposition"]
    assert png.headers["content-type"] == "image/png"


async def test_only_files_the_answers_name_can_be_downloaded(
    staff: TestClient, database_url: str, store: FileStore
) -> None:
    submission_id = await _grant_with_files(database_url, store)
    other = store.store(b"%PDF-1.7\nsomeone else's file\n%%EOF\n").sha256  # stored, not named
    base = f"/staff/bodies/131016/submissions/{submission_id}/files/"

    assert staff.get(base + other).status_code == 404
    assert staff.get(base + "not-a-checksum").status_code == 404


async def test_a_submission_of_another_body_is_not_found(
    staff: TestClient, database_url: str, store: FileStore
) -> None:
    submission_id = await _grant_with_files(database_url, store)
    _, page = get_page(staff, f"/staff/bodies/131016/submissions/{submission_id}")
    file_link = next(
        a.attrs["href"] for a in page.main.find_all("a") if "/files/" in a.attrs["href"]
    )

    elsewhere = f"/staff/bodies/soumu/submissions/{submission_id}"
    assert staff.get(elsewhere).status_code == 404
    assert staff.get(file_link.replace("/131016/", "/soumu/")).status_code == 404
    assert staff.get("/staff/bodies/131016/submissions/not-an-id").status_code == 404


# --- Accessibility ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_page_keeps_the_rules(
    staff: TestClient, database_url: str, store: FileStore, language: str
) -> None:
    await _three_opinions(database_url)
    submission_id = await _grant_with_files(database_url, store)
    for url in (
        "/staff",
        "/staff?q=札幌",
        "/staff/bodies/soumu",
        "/staff/bodies/011002",
        OPINIONS,
        OPINIONS + "?q=佐藤",
        GRANTS,
        f"/staff/bodies/131016/submissions/{submission_id}",
    ):
        check_page(staff, url, language)
    response, _ = get_page(staff, f"{OPINIONS}?from=2026-12-09&to=2026-12-01", language)
    assert response.status_code == 422
    checked(response, language)
