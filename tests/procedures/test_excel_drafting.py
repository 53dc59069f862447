"""Drafting a procedure definition from the Excel templates it replaces."""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from madoguchi.procedures.definition import Definition
from madoguchi.procedures.excel import Draft, WorkbookError, draft_from_workbook, draft_yaml
from madoguchi.procedures.excel.guessing import clean_label, guess_type
from madoguchi.procedures.loader import load_definition
from tests.procedures import templates


def questions(draft: Draft, page: int = 0) -> dict[str, dict[str, Any]]:
    """The questions of a page by their Japanese label (guidance by its text)."""
    found = draft.definition["pages"][page]["questions"]
    return {(q.get("label") or q["text"])["ja"]: q for q in found}


def loaded(draft: Draft) -> Definition:
    definition = load_definition(draft_yaml(draft))
    assert definition == Definition.model_validate(draft.definition)
    return definition


def test_the_public_comment_form_becomes_one_page_of_questions() -> None:
    draft = draft_from_workbook(templates.public_comment(), owner="000001", slug="iken-boshu")

    definition = loaded(draft)
    assert definition.slug == "iken-boshu"
    assert definition.title.ja == "「○○基本計画（案）」に対する意見提出様式"
    asked = questions(draft)
    assert list(asked) == [
        "氏名", "所属", "メールアドレス", "該当箇所", "ご意見",
        "※いただいたご意見に対して個別の回答はいたしかねますので、あらかじめご了承ください。",
    ]  # fmt: skip
    assert [q["type"] for q in asked.values()] == [
        "person_name", "short_text", "email", "choice", "long_text", "guidance",
    ]  # fmt: skip
    assert asked["氏名"]["required"] is False
    assert asked["所属"]["required"] is True
    assert [o["value"] for o in asked["該当箇所"]["options"]] == list(templates.TOPICS)
    assert asked["ご意見"]["hint"] == {"ja": "500字以内でご記入ください"}
    assert [q.id for q in definition.pages[0].questions] == [
        "q1", "q2", "q3", "q4", "q5", "guidance6",
    ]  # fmt: skip


def test_the_public_comment_notes_say_what_was_skipped() -> None:
    draft = draft_from_workbook(templates.public_comment(), owner="000001")

    assert "意見提出様式!F3: 2026 is not a label; skipped" in draft.notes
    assert any("'excel-form' is a placeholder" in note for note in draft.notes)
    assert draft_yaml(draft).startswith("# Drafted from an Excel template")
    assert "#   - 意見提出様式!F3" in draft_yaml(draft)


def test_the_event_list_is_read_as_rows_with_its_validations() -> None:
    draft = draft_from_workbook(templates.event_registration(), owner="131016")

    loaded(draft)
    asked = questions(draft)
    assert list(asked) == ["氏名", "フリガナ", "電話番号", "参加人数", "参加日", "区分"]
    assert asked["氏名"]["type"] == "person_name"
    assert asked["フリガナ"]["type"] == "short_text"
    assert asked["電話番号"] | {"hint": {"ja": "日中つながる番号"}} == asked["電話番号"]
    assert asked["電話番号"]["type"] == "phone"
    people = asked["参加人数"]
    assert (people["type"], people["minimum"], people["maximum"]) == ("number", 1, 10)
    assert people["unit"] == {"ja": "人"}
    day = asked["参加日"]
    assert (day["type"], str(day["earliest"]), str(day["latest"])) == (
        "date", "2026-04-01", "2026-04-30",
    )  # fmt: skip
    assert [o["value"] for o in asked["区分"]["options"]] == list(templates.CATEGORIES)
    assert "hidden sheet 'lists' skipped (read only as a list source)" in draft.notes
    assert "参加申込一覧: column 'No.' numbers the rows; not asked" in draft.notes


def test_the_subsidy_workbook_gives_a_page_per_sheet() -> None:
    draft = draft_from_workbook(templates.subsidy_application(), owner="130001")

    definition = loaded(draft)
    assert definition.title.ja == "中小企業デジタル化補助金 交付申請書"
    assert [page.title.ja for page in definition.pages] == ["申請者情報", "経費明細"]
    applicant = questions(draft, 0)
    assert applicant["法人番号"]["type"] == "corporate_number"
    assert applicant["法人番号"]["hint"] == {"ja": "13桁の数字"}
    assert applicant["住所"]["type"] == "address"
    assert applicant["電話番号"]["required"] is True
    assert applicant["事業の内容"]["type"] == "long_text"
    expenses = questions(draft, 1)
    assert expenses["金額"]["type"] == "number"
    assert expenses["金額"]["unit"] == {"ja": "円"}
    assert expenses["支払予定日"]["type"] == "date"
    assert any("'合計金額' is computed by a formula" in note for note in draft.notes)
    assert any("経費明細: row 2 already hold" in note for note in draft.notes)


def test_ids_and_slugs_come_from_english_labels() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Entry"
    sheet.append(["Name", "Email", "Comments", "Name"])

    draft = draft_from_workbook(templates.saved(workbook), owner="000001")

    assert [q["id"] for q in draft.definition["pages"][0]["questions"]] == [
        "name", "email", "comments", "name_2",
    ]  # fmt: skip
    assert draft.definition["pages"][0]["id"] == "entry"
    loaded(draft)


def test_the_slug_comes_from_the_file_name(tmp_path: Any) -> None:
    path = tmp_path / "Event Entry 2026.xlsx"
    path.write_bytes(templates.event_registration())

    draft = draft_from_workbook(path, owner="000001")

    assert draft.definition["slug"] == "event-entry-2026"


def test_a_form_sheet_with_labels_above_their_boxes() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"], sheet["A2"] = "Feedback", "ご意見（任意）"
    sheet.merge_cells("A2:C2")
    sheet.merge_cells("A3:C8")
    sheet["A3"].comment = Comment("自由にお書きください", "")
    sheet["A10"], sheet["B10"], sheet["A11"] = "連絡先", "電話", "=1+1"

    draft = draft_from_workbook(templates.saved(workbook), owner="000001")

    asked = questions(draft)
    assert asked["Feedback"]["type"] == "short_text"
    assert asked["ご意見"] | {"required": False, "type": "long_text"} == asked["ご意見"]
    assert asked["ご意見"]["hint"] == {"ja": "自由にお書きください"}
    assert any("no empty input cell right of or below '連絡先'" in n for n in draft.notes)
    assert any("Sheet!A11: '=1+1' is not a label" in n for n in draft.notes)


@pytest.mark.parametrize(
    ("rows", "labels"),
    [
        ([["氏名", "住所"], ["山田太郎", "東京都"]], ["氏名", "住所"]),
        ([["氏名：", "住所"], ["電話番号："]], ["住所", "電話番号"]),  # a colon marks a label
        ([["氏名", None, "住所"], ["電話番号："]], ["氏名", "住所", "電話番号"]),  # a gap: a form
        ([["氏名"], ["電話番号"]], ["氏名", "電話番号"]),
    ],
)
def test_the_style_of_a_sheet_is_detected(rows: list[list[str | None]], labels: list[str]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)

    draft = draft_from_workbook(templates.saved(workbook), owner="000001")

    assert list(questions(draft)) == labels


def validated(validation: DataValidation, workbook: Workbook | None = None) -> dict[str, Any]:
    workbook = workbook or Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"], sheet["B1"] = "項目：", None
    sheet.add_data_validation(validation)
    validation.add("B1")
    draft = draft_from_workbook(templates.saved(workbook), owner="000001")
    loaded(draft)
    return {"question": questions(draft)["項目"], "notes": draft.notes}


def test_a_list_from_a_defined_name_on_the_same_sheet() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row, value in enumerate(["A", "B", "A", "C", "D", "E", "F"], start=3):
        sheet.cell(row, 5, value)
    workbook.defined_names["choices"] = DefinedName("choices", attr_text="Sheet!$E$3:$E$9")

    found = validated(DataValidation(type="list", formula1="choices"), workbook)

    assert [o["value"] for o in found["question"]["options"]] == ["A", "B", "C", "D", "E", "F"]
    assert found["question"]["style"] == "select"


def test_a_list_that_cannot_be_read_is_a_note() -> None:
    found = validated(DataValidation(type="list", formula1="INDIRECT(A1)"))

    assert found["question"]["type"] == "short_text"
    assert "Sheet!A1: the list 'INDIRECT(A1)' could not be read; asked as text" in found["notes"]


def test_exclusive_and_one_sided_bounds() -> None:
    whole = validated(DataValidation(type="whole", operator="greaterThan", formula1="0"))
    money = validated(DataValidation(type="decimal", operator="lessThan", formula1="2.5"))
    day = validated(DataValidation(type="date", operator="lessThan", formula1="DATE(2026,4,1)"))

    assert whole["question"]["minimum"] == 1
    assert money["question"] | {"integer": False, "maximum": 2.5} == money["question"]
    assert "exclusive bound 2.5 is kept as inclusive" in " ".join(money["notes"])
    assert str(day["question"]["latest"]) == "2026-03-31"


def test_bounds_that_are_not_values_are_notes() -> None:
    found = validated(DataValidation(type="whole", formula1="$C$1", formula2="10"))
    other = validated(
        DataValidation(type="whole", operator="notBetween", formula1="1", formula2="2")
    )

    assert "minimum" not in found["question"] and found["question"]["maximum"] == 10
    assert any("the bound '$C$1' is not a plain value" in note for note in found["notes"])
    assert any("notBetween validation cannot become bounds" in n for n in other["notes"])


def test_text_length_custom_and_prompts() -> None:
    short = validated(DataValidation(type="textLength", operator="lessThanOrEqual", formula1="50"))
    custom = validated(DataValidation(type="custom", formula1="ISNUMBER(B1)", prompt="半角数字"))

    assert short["question"]["max_length"] == 50
    assert custom["question"]["hint"] == {"ja": "半角数字"}
    assert any("a custom validation cannot become" in note for note in custom["notes"])


@pytest.mark.parametrize(
    ("raw", "label", "required"),
    [
        ("氏名（任意）：", "氏名", False),
        ("電話番号(必須):", "電話番号", True),
        ("住所【任意】", "住所", False),
        ("ご意見 ※必須", "ご意見", True),
        ("所属", "所属", True),
    ],
)
def test_markers_are_taken_off_labels(raw: str, label: str, required: bool) -> None:
    assert clean_label(raw) == (label, required)


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("生年月日", "date_of_birth"),
        ("氏名フリガナ", "short_text"),
        ("E-mail", "email"),
        ("ＴＥＬ", "phone"),
        ("法人番号", "corporate_number"),
        ("郵便番号", "address"),
        ("お名前", "person_name"),
        ("提出日", "date"),
        ("曜日", "short_text"),
        ("補助金額", "number"),
        ("参加者数", "number"),
        ("ご意見", "long_text"),
        ("所属", "short_text"),
    ],
)
def test_types_are_guessed_conservatively(label: str, kind: str) -> None:
    assert guess_type(label) == kind


def test_a_bad_file_or_slug_is_a_clear_error(tmp_path: Any) -> None:
    with pytest.raises(WorkbookError, match=r"not a readable \.xlsx workbook"):
        draft_from_workbook(b"name,email\n", owner="000001")
    with pytest.raises(WorkbookError, match="cannot read"):
        draft_from_workbook(tmp_path / "missing.xlsx", owner="000001")
    with pytest.raises(WorkbookError, match="is not a slug") as raised:
        draft_from_workbook(templates.public_comment(), owner="000001", slug="Bad Slug")
    assert raised.value.field == "slug"


def test_a_workbook_with_nothing_to_ask_is_an_error() -> None:
    workbook = Workbook()
    workbook.create_sheet("空")
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "=TODAY()"

    with pytest.raises(WorkbookError, match="found nothing to ask"):
        draft_from_workbook(templates.saved(workbook), owner="000001")


def test_an_odd_workbook_is_read_with_notes_for_what_it_cannot_use() -> None:
    workbook = Workbook()
    form = workbook.active
    assert form is not None
    form.title = "申請"
    form["A1"], form["A2"], form["A3"] = "生年月日：", "金額：", "区分："
    form["A1"].comment = Comment("総務課:\n西暦で", "総務課")
    born = DataValidation(type="date", operator="greaterThan", formula1="1")
    short = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="10")
    empty = DataValidation(type="list", formula1="$Z$1:$Z$3")
    for validation, cell in ((born, "B1"), (short, "B2"), (empty, "B3")):
        form.add_data_validation(validation)
        validation.add(cell)
    table = workbook.create_sheet("集計")
    table.append(["品名", "小計"])
    table.append(["りんご", "=B1*2"])
    workbook.create_sheet("空き")
    chart = BarChart()
    chart.add_data(Reference(table, min_col=2, min_row=1, max_row=2))
    workbook.create_chartsheet("グラフ").add_chart(chart)

    draft = draft_from_workbook(templates.saved(workbook), owner="000001")

    loaded(draft)
    asked = questions(draft)
    born_on = asked["生年月日"]
    assert (born_on["type"], born_on["hint"]) == ("date_of_birth", {"ja": "西暦で"})
    assert asked["金額"]["type"] == "number"
    assert asked["区分"]["type"] == "short_text"
    assert list(questions(draft, 1)) == ["品名"]
    for expected in (
        "申請!A1: date bounds are not kept on a date of birth",
        "申請!A2: the length limit 10 is not kept on a number",
        "申請!A3: the list is empty; asked as text",
        "集計: column '小計' is computed by a formula; not asked",
        "sheet '空き' is empty; skipped",
        "chart sheet 'グラフ' skipped: charts ask nothing",
    ):
        assert expected in draft.notes
