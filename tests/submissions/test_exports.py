"""Exports read back: CSV with csv, XLSX with openpyxl, JSON with json; filters narrow them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.procedures import service as procedures
from madoguchi.submissions.exports import attachment, csv_text
from tests.submissions.export_support import (
    GRANT,
    committed,
    grant_answers,
    grant_procedure,
    item_header,
    part_header,
    said,
    submit_grant,
    submit_opinion,
)
from tests.support.officials import signed_in_official
from tests.support.samples import PDF

JST = dt.timezone(dt.timedelta(hours=9))
GRANT_URL = "/staff/bodies/131016/procedures/child-grant/submissions"
OPINION_URL = "/staff/bodies/soumu/procedures/metaverse-consultation/submissions"
INJECTION = '=HYPERLINK("http://evil.example","クリック")'


@pytest.fixture
def staff(client: TestClient, database_url: str) -> uuid.UUID:
    """``client`` signed in as a caseworker (exports need one) of the bodies exported from."""
    return signed_in_official(
        client, database_url, ("soumu", "131016", "meti"), OfficialRole.CASEWORKER
    )


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return FileStore.from_settings(settings)


async def _two_grants(database_url: str, store: FileStore) -> list[str]:
    async with committed(database_url) as session:
        await grant_procedure(session)
        first = await submit_grant(
            session, store, grant_answers(note=INJECTION), files=(("住民票.pdf", PDF),)
        )
        given = grant_answers(family="佐藤", note="-1+1")
        given["children"] = given["children"][:1]
        second = await submit_grant(session, store, given)
        return [first.reference, second.reference]


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_csv_has_a_column_per_part_and_defuses_formulas(
    client: TestClient, database_url: str, store: FileStore, staff: uuid.UUID
) -> None:
    references = await _two_grants(database_url, store)

    answer = client.get(GRANT_URL + ".csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["cache-control"] == "no-store"
    rows = _csv_rows(answer.content)
    assert [row[said("Reference number")] for row in rows] == references
    first, second = rows
    assert (
        first[part_header("氏名", "family name")] == "山田"
        and first[part_header("氏名", "given name in katakana")] == "ハナコ"
    )
    assert (
        first[part_header("住所", "prefecture")] == "東京都"
        and first[part_header("住所", "building")] == "窓口ハイツ101"
    )
    assert first["個人番号"] == "●●●● ●●●● 9018"
    assert "123456789018" not in answer.text
    assert (
        first[part_header("振込先口座", "bank")] == "みずほ"
        and first[part_header("振込先口座", "account number")] == "1234567"
    )
    assert (
        first["必要な支援"] == "食事の支援、" + said("Other")
        and first[part_header("必要な支援", "other")] == "送迎"
    )
    assert first["同意しますか"] == said("Yes")
    assert first["添付書類"] == "住民票.pdf"
    assert (
        first[item_header("子ども", 2, "子の氏名")] == "山田 次郎"
        and second[item_header("子ども", 2, "子の氏名")] == ""
    )
    assert first[item_header("子ども", 1, "生年月日")] == "2020-04-01"
    assert first["子どもの人数"] == "2" and second["子どもの人数"] == "1"
    assert first["備考"] == "'" + INJECTION
    assert second["備考"] == "'-1+1"
    assert second["電話番号"] == "090-1234-5678"
    assert first[said("Version")] == "1" and first[said("Channel")] == said("Web form")
    assert dt.datetime.fromisoformat(first[said("Submitted at")]).date() <= dt.date.today()


def test_the_file_name_keeps_the_japanese_title(client: TestClient, staff: uuid.UUID) -> None:
    answer = client.get(OPINION_URL + ".csv")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="metaverse-consultation-submissions-')
    assert (
        "filename*=UTF-8''" + quote("メタバース等の利活用に関する意見募集-submissions-")
        in disposition
    )
    assert _csv_rows(answer.content) == []


async def test_english_headers_follow_the_language(
    client: TestClient, database_url: str, store: FileStore, staff: uuid.UUID
) -> None:
    await _two_grants(database_url, store)
    client.cookies.set("lang", "en")
    rows = _csv_rows(client.get(GRANT_URL + ".csv").content)
    assert rows[0][part_header("Name", "family name", "en")] == "山田"
    assert rows[0]["Support needed"] == "Meals、Other"
    assert rows[0]["Do you agree?"] == "Yes"


def _left_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())


async def test_xlsx_opens_with_typed_cells_and_text_never_a_formula(
    client: TestClient,
    database_url: str,
    store: FileStore,
    staff: uuid.UUID,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    references = await _two_grants(database_url, store)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    answer = client.get(GRANT_URL + ".xlsx")

    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(answer.content))
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    assert sheet.title == "子育て応援給付金の申請"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    headers = rows[0]
    first = dict(zip(headers, rows[1], strict=True))
    assert [row[0] for row in rows[1:]] == references
    assert first["備考"] == INJECTION  # kept as typed, stored as text
    note_cell = sheet.cell(2, headers.index("備考") + 1)
    assert note_cell.data_type == "s"
    assert first[item_header("子ども", 1, "生年月日")] == dt.datetime(2020, 4, 1)
    assert first["子どもの人数"] == 2 and first[said("Version")] == 1
    assert isinstance(first[said("Submitted at")], dt.datetime)
    assert first["個人番号"] == "●●●● ●●●● 9018"
    assert sheet.cell(1, 1).font.b
    assert _left_in(temporary) == []  # the workbook's temporary files are gone


async def test_json_keeps_shapes_and_question_ids(
    client: TestClient, database_url: str, store: FileStore, staff: uuid.UUID
) -> None:
    references = await _two_grants(database_url, store)

    answer = client.get(GRANT_URL + ".json")

    assert answer.headers["content-type"] == "application/json"
    items = json.loads(answer.content)
    assert [item["reference"] for item in items] == references
    first: dict[str, Any] = items[0]
    assert first["answers"]["my_number"] == "●●●● ●●●● 9018"
    assert "encrypted" not in answer.text
    assert first["answers"]["documents"] == ["住民票.pdf"]
    assert first["answers"]["needs"] == {"value": ["meals", "other"], "other": "送迎"}
    assert first["answers"]["name"]["family"] == "山田"
    assert first["answers"]["children"][1] == {"child_name": "山田 次郎", "born": "2022-05-05"}
    assert first["computed"] == {"children_count": 2}
    assert dt.datetime.fromisoformat(first["submitted_at"]).utcoffset() == dt.timedelta(hours=9)
    assert first["channel"] == "web" and first["version"] == 1


async def test_filters_narrow_every_format(
    client: TestClient, database_url: str, staff: uuid.UUID
) -> None:
    async with committed(database_url) as session:
        await submit_opinion(
            session, "山田 花子", submitted_at=dt.datetime(2026, 12, 1, tzinfo=JST)
        )
        late = await submit_opinion(
            session, "鈴木 一郎", submitted_at=dt.datetime(2026, 12, 20, tzinfo=JST)
        )
    query = {"from": "令和8年12月10日"}
    assert [
        r[said("Reference number")]
        for r in _csv_rows(client.get(OPINION_URL + ".csv", params=query).content)
    ] == [late.reference]
    items = client.get(OPINION_URL + ".json", params={"q": "一郎"}).json()
    assert [item["reference"] for item in items] == [late.reference]
    workbook = load_workbook(
        io.BytesIO(client.get(OPINION_URL + ".xlsx", params={"to": "2026-11-30"}).content)
    )
    assert workbook.active is not None and workbook.active.max_row == 1


def test_a_bad_filter_is_a_clear_error(client: TestClient, staff: uuid.UUID) -> None:
    answer = client.get(OPINION_URL + ".csv", params={"from": "昨日"})
    assert answer.status_code == 422
    assert "昨日" in answer.text


def test_exports_are_for_officials_and_within_the_body(
    client: TestClient, database_url: str
) -> None:
    assert client.get(OPINION_URL + ".csv", follow_redirects=False).status_code == 303
    signed_in_official(client, database_url, "soumu", OfficialRole.VIEWER)
    assert client.get(OPINION_URL + ".json").status_code == 403  # exports: caseworkers and up
    signed_in_official(client, database_url, ("soumu", "meti"), OfficialRole.CASEWORKER)
    assert client.get(OPINION_URL + ".json").status_code == 200
    # the consultation belongs to soumu: another body's address does not reach it
    other = "/staff/bodies/meti/procedures/metaverse-consultation/submissions.csv"
    assert client.get(other).status_code == 404
    unknown = "/staff/bodies/999999/procedures/metaverse-consultation/submissions.json"
    assert client.get(unknown).status_code in (404, 422)


async def test_every_versions_questions_have_columns_with_the_newest_labels(
    client: TestClient, database_url: str, store: FileStore, staff: uuid.UUID
) -> None:
    async with committed(database_url) as session:
        procedure = await grant_procedure(session)
        old = await submit_grant(session, store, grant_answers(note="旧版の備考"))
        newer = GRANT.replace(
            "{ja: 電話番号, en: Phone}", "{ja: 日中の電話番号, en: Daytime phone}"
        )
        newer = newer.replace(
            "      - {id: note, type: long_text, required: false, label: {ja: 備考, en: Notes}}\n",
            "",
        )
        assert newer.count("\n") == GRANT.count("\n") - 1
        version = await procedures.save_draft(session, "131016", newer)
        await procedures.publish(session, procedure, version.version)
        given = grant_answers()
        del given["note"]
        new = await submit_grant(session, store, given)

    rows = _csv_rows(client.get(GRANT_URL + ".csv").content)

    assert [(row[said("Reference number")], row[said("Version")]) for row in rows] == [
        (old.reference, "1"),
        (new.reference, "2"),
    ]
    headers = list(rows[0])
    assert "日中の電話番号" in headers and "電話番号" not in headers
    assert headers.index("備考") > headers.index(item_header("子ども", 3, "生年月日"))
    assert headers[-1] == "子どもの人数"  # computed values come last
    assert [row["備考"] for row in rows] == ["旧版の備考", ""]
    assert [row["日中の電話番号"] for row in rows] == ["090-1234-5678"] * 2


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+81 3-1234-5678", "'+81 3-1234-5678"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("山田 = 花子", "山田 = 花子"),
        (Decimal("-2.50"), "-2.50"),  # numbers we wrote are numbers, not formulas
        (-3, "-3"),
        (dt.date(2026, 4, 1), "2026-04-01"),
        (dt.datetime(2026, 4, 1, 9, 5), "2026-04-01 09:05:00"),
        (None, ""),
    ],
)
def test_csv_cells_defuse_formulas_only_in_text(value: Any, text: str) -> None:
    assert csv_text(value) == text


def test_attachment_names_have_a_plain_fallback() -> None:
    value = attachment("意見募集-submissions.csv", 'a"b\\意見.csv')
    assert value == (
        'attachment; filename="a_b___.csv"; '
        "filename*=UTF-8''%E6%84%8F%E8%A6%8B%E5%8B%9F%E9%9B%86-submissions.csv"
    )
