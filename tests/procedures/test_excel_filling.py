"""Responses written back into the Excel template's own layout."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from madoguchi.procedures.excel import WorkbookError, draft_from_workbook, fill_template
from madoguchi.procedures.excel.filling import cell_value
from tests.procedures import templates

OPINIONS = [
    {"q1": "山田太郎", "q2": "○○大学", "q3": "taro@example.jp", "q4": "第2章 基本方針",
     "q5": "=HYPERLINK(\"http://example.com\")\nもう少し具体的に。"},
    {"q2": "株式会社××", "q3": "hanako@example.jp", "q4": "全体について", "q5": "賛成です。"},
]  # fmt: skip


def reopened(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def sheet(workbook: Workbook, name: str) -> Worksheet:
    found = workbook[name]
    assert isinstance(found, Worksheet)
    return found


def draft_of(template: bytes) -> dict[str, Any]:
    return draft_from_workbook(template, owner="000001").definition


def test_public_comments_fill_one_copy_of_the_form_each() -> None:
    template = templates.public_comment()

    filled = reopened(fill_template(template, draft_of(template), OPINIONS, layout="sheets"))

    assert filled.sheetnames == ["意見提出様式_1", "意見提出様式_2"]
    first, second = sheet(filled, "意見提出様式_1"), sheet(filled, "意見提出様式_2")
    assert [first[c].value for c in ("A3", "B3", "B4", "B5", "B6")] == [
        "氏名（任意）：", "山田太郎", "○○大学", "taro@example.jp", "第2章 基本方針",
    ]  # fmt: skip
    assert first["B7"].value.startswith("=HYPERLINK")
    assert first["B7"].data_type == "s"  # text from the public is never a formula
    assert second["B3"].value is None and second["B7"].value == "賛成です。"
    assert "B7:D15" in {str(r) for r in second.merged_cells.ranges}
    assert second["B6"].border.left.style == "thin"
    assert second["A1"].font.b
    assert len(second.data_validations.dataValidation) == 1


def test_form_answers_are_found_by_label_when_the_ids_were_changed() -> None:
    template = templates.public_comment()
    definition = draft_of(template)
    for question in definition["pages"][0]["questions"]:
        question["id"] = f"renamed_{question['id']}"

    filled = reopened(fill_template(template, definition, [{"renamed_q2": "市役所"}], "sheets"))

    assert sheet(filled, "意見提出様式_1")["B4"].value == "市役所"


def test_the_rows_layout_keeps_the_form_and_lists_the_responses() -> None:
    template = templates.public_comment()

    filled = reopened(fill_template(template, draft_of(template), OPINIONS, layout="rows"))

    assert filled.sheetnames == ["意見提出様式", "意見提出様式一覧"]
    assert sheet(filled, "意見提出様式")["B3"].value is None
    table = sheet(filled, "意見提出様式一覧")
    assert [c.value for c in table[1]] == ["氏名", "所属", "メールアドレス", "該当箇所", "ご意見"]
    assert [c.value for c in table[3]] == [
        None, "株式会社××", "hanako@example.jp", "全体について", "賛成です。",
    ]  # fmt: skip


def test_event_registrations_become_rows_under_the_header() -> None:
    template = templates.event_registration()
    people = [
        {"q1": "佐藤花子", "q2": "サトウハナコ", "q3": "090-1234-5678", "q4": 2,
         "q5": "2026-04-12", "q6": "市外"},
        {"q1": "鈴木一郎", "q4": "3", "q5": "4月12日"},
    ]  # fmt: skip

    filled = reopened(fill_template(template, draft_of(template), people, layout="rows"))

    rows = sheet(filled, "参加申込一覧")
    assert [c.value for c in rows[1]] == [
        "No.",
        "氏名",
        "フリガナ",
        "電話番号",
        "参加人数",
        "参加日",
        "区分",
    ]
    assert [c.value for c in rows[2]] == [
        1, "佐藤花子", "サトウハナコ", "090-1234-5678", 2, dt.datetime(2026, 4, 12), "市外",
    ]  # fmt: skip
    assert [c.value for c in rows[3]][:6] == [2, "鈴木一郎", None, None, 3, "4月12日"]
    assert rows["B2"].border.left.style == "thin"
    assert filled["lists"].sheet_state == "hidden"


def test_the_subsidy_workbook_fills_both_sheets() -> None:
    template = templates.subsidy_application()
    application = {
        "q1": "1234567890123", "q2": "株式会社窓口", "q3": {"family": "窓口", "given": "一郎"},
        "q4": {"postal_code": "100-0001", "address": "東京都千代田区千代田1-1"},
        "q7": "受付業務の電子化", "q8": "ソフトウェア費", "q9": "申請管理システム", "q10": 450000,
        "q11": "2026-07-01",
    }  # fmt: skip

    filled = reopened(fill_template(template, draft_of(template), [application], "sheets"))

    assert filled.sheetnames == ["申請者情報_1", "経費明細"]
    applicant = sheet(filled, "申請者情報_1")
    assert applicant["B3"].value == "1234567890123"
    assert applicant["B5"].value == "窓口、一郎"
    assert applicant["B6"].value == "100-0001、東京都千代田区千代田1-1"
    assert applicant["A11"].value == "受付業務の電子化"
    assert applicant["B18"].value == "=SUM(経費明細!C2:C20)"  # the template's own formula stays
    expenses = sheet(filled, "経費明細")
    assert expenses["A2"].value == "（記入例）機器購入費"
    assert [c.value for c in expenses[3]] == [
        "ソフトウェア費", "申請管理システム", 450000, dt.datetime(2026, 7, 1),
    ]  # fmt: skip


def test_no_submissions_leave_the_template_as_it_was() -> None:
    template = templates.public_comment()

    filled = reopened(fill_template(template, draft_of(template), [], "sheets"))

    assert filled.sheetnames == ["意見提出様式"]


@pytest.mark.parametrize(
    ("answer", "kind", "value"),
    [
        (True, "yes_no", "はい"),
        (False, "yes_no", "いいえ"),
        (["文化", "スポーツ"], "choice", "文化、スポーツ"),
        ({"a": "東京都", "b": None, "c": 3}, "address", "東京都、3"),
        ("1.5", "number", 1.5),
        ("十", "number", "十"),
        ("abc\x07", "short_text", "abc"),
        (None, "short_text", None),
    ],
)
def test_answers_become_simple_cell_values(answer: Any, kind: str, value: Any) -> None:
    assert cell_value(answer, kind) == value


def test_an_unknown_layout_is_refused() -> None:
    template = templates.public_comment()

    with pytest.raises(WorkbookError, match="layout is 'rows' or 'sheets'"):
        fill_template(template, draft_of(template), [], "columns")  # type: ignore[arg-type]


def test_copies_get_free_sheet_names() -> None:
    template = templates.public_comment()
    workbook = load_workbook(io.BytesIO(template))
    workbook.create_sheet("意見提出様式_1")
    crowded = templates.saved(workbook)

    filled = reopened(fill_template(crowded, draft_of(template), OPINIONS[:1], "sheets"))

    assert filled.sheetnames == ["意見提出様式_1_2", "意見提出様式_1"]
    assert sheet(filled, "意見提出様式_1_2")["B3"].value == "山田太郎"
