"""Staff publish and roll back versions, edit a draft's YAML, and turn an Excel template into an
online form: upload, review, edit, save, publish, and find it on the body's public page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from madoguchi.core.files import FileStore
from madoguchi.procedures import service as procedures
from madoguchi.procedures.staff_pages.from_excel import MAX_WORKBOOK_BYTES
from tests.procedures import templates
from tests.staff.support import (
    LANGUAGES,
    check_page,
    checked,
    csrf_of,
    textarea_text,
    token,
)
from tests.submissions.export_support import committed, said
from tests.support.html import Page, get_page

SAPPORO = "/staff/bodies/011002"
UPLOAD = SAPPORO + "/procedures/from-excel"
CONSULTATION = "/staff/bodies/soumu/procedures/metaverse-consultation"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PLACEHOLDER = "ja: Excel様式「「○○基本計画（案）」に対する意見提出様式」から作成した下書きです。"
SUMMARY = "ja: 基本計画（案）について、市民の皆さまのご意見を募集します。"
TITLE = "「○○基本計画（案）」に対する意見提出様式"


def upload(
    staff: TestClient,
    data: bytes,
    name: str = "意見提出様式.xlsx",
    slug: str = "iken",
    url: str = UPLOAD,
) -> tuple[int, Page]:
    response = staff.post(
        url,
        data={"csrf_token": token(staff, url), "step": "upload", "slug": slug},
        files={"file": (name, data, XLSX_TYPE)},
    )
    return response.status_code, Page(response.text)


def save_reviewed(staff: TestClient, review: Page, source: str, url: str = UPLOAD) -> Response:
    fields = {
        name: review.find("input", name=name).attrs["value"]
        for name in ("csrf_token", "step", "workbook", "filename")
    }
    return staff.post(url, data={**fields, "source": source}, follow_redirects=False)


def post_form(staff: TestClient, url: str, page_url: str, **fields: str) -> Response:
    return staff.post(url, data={"csrf_token": token(staff, page_url), **fields})


# --- From an Excel workbook to a published online form -------------------------------------


async def test_an_excel_template_becomes_an_online_form(
    staff: TestClient, store: FileStore, database_url: str
) -> None:
    workbook = templates.public_comment()

    status, review = upload(staff, workbook)

    assert status == 200
    source = textarea_text(review)
    assert "type: long_text" in source and "ご意見" in source
    notes = [li.text for li in review.find("ul", class_="notes").find_all("li")]
    assert "意見提出様式!F3: 2026 is not a label; skipped" in notes
    sha256 = review.find("input", name="workbook").attrs["value"]
    assert store.read(sha256) == workbook  # kept, for exports in its own layout

    saved = save_reviewed(staff, review, source.replace(PLACEHOLDER, SUMMARY))

    assert saved.status_code == 303
    versions_url = SAPPORO + "/procedures/iken/versions"
    assert saved.headers["location"] == versions_url + "?done=saved&version=1"
    async with committed(database_url) as session:
        procedure = await procedures.get_procedure(session, "011002", "iken")
        [draft] = await procedures.list_versions(session, procedure)
        assert draft.status == "draft"
        assert draft.workbook_sha256 == sha256
        assert SUMMARY in draft.source
    assert TITLE not in get_page(staff, "/bodies/011002")[1].main.text  # not offered yet

    _, versions = get_page(staff, saved.headers["location"], "en")
    assert "Version 1 is saved as a draft" in versions.main.text
    published = post_form(staff, versions_url + "/1/publish", versions_url)

    assert published.url.path == versions_url
    _, body = get_page(staff, "/bodies/011002")
    assert TITLE in body.main.text
    assert staff.get("/bodies/011002/procedures/iken").status_code == 200
    export = staff.get(SAPPORO + "/procedures/iken/submissions/in-template.xlsx")
    assert export.status_code == 200
    assert export.headers["content-type"] == XLSX_TYPE


async def test_the_review_is_edited_until_the_yaml_loads(staff: TestClient) -> None:
    _, review = upload(staff, templates.event_registration(), "sanka.xlsx", slug="")
    source = textarea_text(review)
    assert "slug: sanka" in source  # taken from the file name
    broken = source.replace("type: date", "type: day", 1)
    lines = broken.splitlines()
    line = lines.index(next(x for x in lines if "type: day" in x))  # its question's "- id:" line

    again = save_reviewed(staff, review, broken)

    assert again.status_code == 422
    page = Page(again.text)
    assert said("Line {line}", line=line) in page.find("div", class_="error-summary").text
    assert textarea_text(page) == broken  # kept exactly as typed
    assert (
        page.find("input", name="workbook").attrs["value"]
        == review.find("input", name="workbook").attrs["value"]
    )
    assert page.find("ul", class_="notes")  # the notes stay beside the draft
    fixed = save_reviewed(staff, page, broken.replace("type: day", "type: date"))
    assert fixed.status_code == 303


def test_a_workbook_cannot_overwrite_an_existing_procedure(staff: TestClient) -> None:
    url = "/staff/bodies/soumu/procedures/from-excel"
    _, review = upload(staff, templates.public_comment(), slug="metaverse-consultation", url=url)
    source = textarea_text(review)

    again = save_reviewed(staff, review, source, url=url)

    assert again.status_code == 422
    assert "metaverse-consultation" in Page(again.text).find("div", class_="error-summary").text


def test_a_draft_is_saved_only_for_its_own_body(staff: TestClient) -> None:
    _, review = upload(staff, templates.public_comment())
    source = textarea_text(review).replace("owner: '011002'", "owner: '012025'")

    again = save_reviewed(staff, review, source)

    assert again.status_code == 422
    assert "012025" in Page(again.text).find("div", class_="error-summary").text


def test_a_workbook_that_was_never_uploaded_is_refused(staff: TestClient) -> None:
    _, review = upload(staff, templates.public_comment())
    review.find("input", name="workbook").attrs["value"] = "a" * 64

    again = save_reviewed(staff, review, textarea_text(review))

    assert again.status_code == 422
    link = Page(again.text).find("div", class_="error-summary").find("a")
    assert link.attrs["href"] == UPLOAD


@pytest.mark.parametrize(
    ("data", "name", "slug", "field", "words"),
    [
        ("氏名,ご意見\n".encode(), "iken.xlsx", "", "file", "not an Excel workbook"),
        (b"", "iken.xlsx", "", "file", "is empty"),
        (b"PK\x03\x04 not really a zip", "iken.xlsx", "", "file", "not an Excel workbook"),
        (templates.public_comment(), "iken.xlsx", "Not A Slug", "slug", "not a slug"),
    ],
)
def test_an_upload_that_cannot_be_drafted_says_why(
    staff: TestClient, data: bytes, name: str, slug: str, field: str, words: str
) -> None:
    staff.cookies.set("lang", "en")
    status, page = upload(staff, data, name, slug)

    assert status == 422
    summary = page.find("div", class_="error-summary")
    assert words in summary.text
    assert summary.find("a").attrs["href"] == f"#{field}"
    assert page.find("input", id=field).attrs["aria-invalid"] == "true"


def test_an_upload_without_a_file_or_too_large_is_refused(staff: TestClient) -> None:
    missing = staff.post(UPLOAD, data={"csrf_token": token(staff, UPLOAD), "step": "upload"})
    assert missing.status_code == 422
    assert Page(missing.text).find("div", class_="error-summary").find("a").attrs["href"] == "#file"

    for size, refused in ((MAX_WORKBOOK_BYTES + 1, 422), (MAX_WORKBOOK_BYTES + 100_000, 413)):
        status, page = upload(staff, b"PK\x03\x04" + bytes(size - 4))
        assert status == refused  # 413 when the request says its size before it is read
        assert page.find("input", id="file").attrs["aria-invalid"] == "true"
        assert said("The file is larger than {most} MB.", most=10) in page.main.text


# --- Versions and the draft's YAML ---------------------------------------------------------


def edit_draft(staff: TestClient, change: tuple[str, str]) -> tuple[Response, str]:
    _, page = get_page(staff, CONSULTATION + "/versions/draft")
    source = textarea_text(page).replace(*change)
    response = staff.post(
        CONSULTATION + "/versions/draft",
        data={"csrf_token": csrf_of(page), "source": source.replace("\n", "\r\n")},
        follow_redirects=False,
    )
    return response, source


async def test_a_new_version_is_drafted_published_and_rolled_back(
    staff: TestClient, database_url: str
) -> None:
    response, source = edit_draft(
        staff, ("ja: メタバース等の利活用に関する意見募集", "ja: 第2回意見募集")
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/versions?done=saved&version=2")
    versions_url = CONSULTATION + "/versions"

    post_form(staff, versions_url + "/2/publish", versions_url)
    assert "第2回意見募集" in get_page(staff, "/bodies/soumu")[1].main.text
    rolled = post_form(staff, versions_url + "/1/make-current", versions_url)

    assert said("Version {version} is current again: applicants get it now.", version="1") in (
        Page(rolled.text).main.text
    )
    async with committed(database_url) as session:
        procedure = await procedures.get_procedure(session, "soumu", "metaverse-consultation")
        versions = await procedures.list_versions(session, procedure)
        assert procedure.current_version == 1
        assert [v.status for v in versions] == ["published", "published"]
        assert versions[1].source == source  # CRLF from the browser made plain
    assert "第2回意見募集" not in get_page(staff, "/bodies/soumu")[1].main.text
    again = post_form(staff, versions_url + "/2/publish", versions_url)
    assert again.status_code == 422
    assert (
        said("Version {version} is already published; published versions never change.", version=2)
        in Page(again.text).find("div", class_="error-summary").text
    )
    assert post_form(staff, versions_url + "/9/make-current", versions_url).status_code == 404


def test_a_broken_definition_shows_the_line_of_each_problem(staff: TestClient) -> None:
    _, page = get_page(staff, CONSULTATION + "/versions/draft")
    lines = textarea_text(page).splitlines()
    broken_at = next(n for n, line in enumerate(lines) if "type: short_text" in line)
    lines[broken_at] = lines[broken_at].replace("short_text", "shorttext")
    source = "\n".join(lines) + "\n"

    response = staff.post(
        CONSULTATION + "/versions/draft", data={"csrf_token": csrf_of(page), "source": source}
    )

    assert response.status_code == 422
    shown = Page(response.text)
    problem = shown.find("div", class_="error-summary").find("li").text
    assert said("Line {line}", line=broken_at) in problem  # the line of its question
    assert "pages[0].questions[1]" in problem
    assert "- id: name" in problem  # the line itself, to find it at a glance
    assert textarea_text(shown) == source
    error = shown.find("div", id="source-error")
    assert "'shorttext'" in error.text
    assert shown.find("textarea", id="source").attrs["aria-invalid"] == "true"


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("", "Enter the definition"),
        ("format: [unclosed\n", "not valid YAML"),
        ("slug: a\n" * 30_000, "longer than"),
    ],
)
def test_nothing_or_nonsense_is_not_saved(staff: TestClient, source: str, words: str) -> None:
    staff.cookies.set("lang", "en")
    response = staff.post(
        CONSULTATION + "/versions/draft",
        data={"csrf_token": token(staff, CONSULTATION + "/versions/draft"), "source": source},
    )
    assert response.status_code == 422
    assert words in Page(response.text).find("div", class_="error-summary").text


def test_the_draft_page_edits_only_its_own_procedure(staff: TestClient) -> None:
    response, _ = edit_draft(staff, ("slug: metaverse-consultation", "slug: another-one"))
    assert response.status_code == 422
    assert "another-one" in Page(response.text).find("div", class_="error-summary").text


async def test_a_new_draft_keeps_the_workbook_its_procedure_came_from(
    staff: TestClient, database_url: str
) -> None:
    _, review = upload(staff, templates.public_comment())
    save_reviewed(staff, review, textarea_text(review))
    versions_url = SAPPORO + "/procedures/iken/versions"
    post_form(staff, versions_url + "/1/publish", versions_url)
    _, page = get_page(staff, versions_url + "/draft")

    staff.post(
        versions_url + "/draft",
        data={"csrf_token": csrf_of(page), "source": textarea_text(page).replace(TITLE, "意見")},
    )

    async with committed(database_url) as session:
        procedure = await procedures.get_procedure(session, "011002", "iken")
        first, second = await procedures.list_versions(session, procedure)
        assert second.workbook_sha256 == first.workbook_sha256 is not None


def test_an_adopted_template_has_no_versions_of_its_own(staff: TestClient) -> None:
    url = SAPPORO + "/procedures/change-of-address/versions"
    response, page = get_page(staff, url, "en")
    assert response.status_code == 200
    assert "adopts a national template" in page.main.text
    assert not page.main.find_all("form")
    assert staff.get(url + "/draft").status_code == 404


# --- Accessibility ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_keeps_the_rules(staff: TestClient, language: str) -> None:
    for url in (
        CONSULTATION + "/versions",
        CONSULTATION + "/versions?done=saved&version=2",
        CONSULTATION + "/versions/draft",
        SAPPORO + "/procedures/change-of-address/versions",
        UPLOAD,
    ):
        check_page(staff, url, language)
    staff.cookies.set("lang", language)
    _, review = upload(staff, templates.subsidy_application(), "hojo.xlsx")
    checked(review, language)
    broken = textarea_text(review).replace("type: short_text", "type: shorttext", 1)
    checked(save_reviewed(staff, review, broken), language)
    status, page = upload(staff, b"", "20261201.xlsx")
    assert status == 422
    checked(page, language)
    draft = staff.post(
        CONSULTATION + "/versions/draft",
        data={"csrf_token": token(staff, UPLOAD), "source": "format: [unclosed\n"},
    )
    checked(draft, language)
    refused = post_form(staff, CONSULTATION + "/versions/1/publish", UPLOAD)
    checked(refused, language)
