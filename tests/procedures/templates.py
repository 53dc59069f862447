"""Excel templates as ministries and municipalities really send them, built with openpyxl.

Each builder returns the .xlsx file's bytes.
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LABEL_FILL = PatternFill("solid", fgColor="DDEBF7")
TOPICS = ("第1章 総則", "第2章 基本方針", "第3章 具体的施策", "全体について")
CATEGORIES = ("市内在住", "市内在勤・在学", "市外")


def saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_of(workbook: Workbook) -> Worksheet:
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    return sheet


def _boxed(sheet: Worksheet, cells: str) -> None:
    for row in sheet[cells]:
        for cell in row:
            cell.border = BOX


def public_comment() -> bytes:
    """(a) The notorious 意見提出様式: a form to fill in and email back."""
    workbook = Workbook()
    sheet = sheet_of(workbook)
    sheet.title = "意見提出様式"
    sheet["A1"] = "「○○基本計画（案）」に対する意見提出様式"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:D1")
    labels = {3: "氏名（任意）：", 4: "所属：", 5: "メールアドレス：", 6: "該当箇所："}
    for row, label in labels.items():
        sheet.cell(row, 1, label).fill = LABEL_FILL
        sheet.merge_cells(f"B{row}:D{row}")
        _boxed(sheet, f"B{row}:D{row}")
    topics = DataValidation(type="list", formula1='"' + ",".join(TOPICS) + '"')
    sheet.add_data_validation(topics)
    topics.add("B6")
    sheet["A7"] = "ご意見："
    sheet["A7"].comment = Comment("500字以内でご記入ください", "総務課")
    sheet.merge_cells("B7:D15")
    _boxed(sheet, "B7:D15")
    sheet["A17"] = (
        "※いただいたご意見に対して個別の回答はいたしかねますので、あらかじめご了承ください。"
    )
    sheet["F3"] = 2026  # a stray value someone left beside the form
    return saved(workbook)


def event_registration() -> bytes:
    """(b) A municipal event's participant list: one row per person."""
    workbook = Workbook()
    sheet = sheet_of(workbook)
    sheet.title = "参加申込一覧"
    headers = ("No.", "氏名", "フリガナ", "電話番号", "参加人数", "参加日", "区分")
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(1, col, header)
        cell.font, cell.fill, cell.border = Font(bold=True), LABEL_FILL, BOX
        for row in range(2, 21):
            sheet.cell(row, col).border = BOX
    sheet["D1"].comment = Comment("日中つながる番号", "市民課")
    lists = workbook.create_sheet("lists")
    lists.sheet_state = "hidden"
    for row, category in enumerate(CATEGORIES, start=1):
        lists.cell(row, 1, category)
    people = DataValidation(type="whole", operator="between", formula1="1", formula2="10")
    days = DataValidation(type="date", operator="between", formula1="46113", formula2="46142")
    kinds = DataValidation(type="list", formula1="lists!$A$1:$A$3")
    for validation, cells in ((people, "E2:E200"), (days, "F2:F200"), (kinds, "G2:G200")):
        sheet.add_data_validation(validation)
        validation.add(cells)
    return saved(workbook)


def subsidy_application() -> bytes:
    """(c) A subsidy application: the applicant on one sheet, the expenses as a table on another."""
    workbook = Workbook()
    workbook.properties.title = "中小企業デジタル化補助金 交付申請書"
    applicant = sheet_of(workbook)
    applicant.title = "申請者情報"
    applicant["A1"] = "交付申請書（様式第1号）"
    applicant["A1"].font = Font(bold=True, size=16)
    rows = ("法人番号", "法人名", "代表者氏名", "住所", "電話番号（必須）", "担当者メール")
    for row, label in enumerate(rows, start=3):
        applicant.cell(row, 1, label).fill = LABEL_FILL
        applicant.cell(row, 2).border = BOX
    applicant["B3"].comment = Comment("13桁の数字", "産業振興課")
    applicant["A10"] = "事業の内容"
    applicant.merge_cells("A10:C10")
    applicant.merge_cells("A11:C16")
    _boxed(applicant, "A11:C16")
    applicant["A18"] = "合計金額"
    applicant["B18"] = "=SUM(経費明細!C2:C20)"
    expenses = workbook.create_sheet("経費明細")
    for col, header in enumerate(("費目", "内容", "金額", "支払予定日"), start=1):
        expenses.cell(1, col, header).font = Font(bold=True)
    expenses.append(("（記入例）機器購入費", "ノートPC 2台", 300000, dt.date(2026, 6, 1)))
    return saved(workbook)
