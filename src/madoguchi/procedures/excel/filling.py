"""Responses written back into the Excel template they were drafted from.

Header-row ("rows") sheets get one row per response under the header (below any example rows),
each new row styled like the template's first data row. Form-style sheets depend on ``layout``:
``"sheets"`` makes one copy of the sheet per response with each answer in its input cell (the
blank original is removed); ``"rows"`` keeps the blank form and adds a sheet "<name>一覧" with one
row per response. The template's styles, merged cells and data validations are kept.

An answer is found by the question whose Japanese label matches the template's label, else by
the id the draft gave it. Answers are written as values, never as formulas.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Mapping, Sequence
from copy import copy
from typing import Any, Literal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from madoguchi.procedures.definition import Definition, Group, Guidance
from madoguchi.procedures.excel.drafting import PlannedPage, plan
from madoguchi.procedures.excel.reading import Source, WorkbookError, read_workbook

Layout = Literal["rows", "sheets"]
Answers = Mapping[str, Any]
DATE_TYPES = ("date", "date_of_birth")


def fill_template(
    template: Source,
    definition: Definition | Mapping[str, Any],
    submissions: Sequence[Answers],
    layout: Layout = "sheets",
) -> bytes:
    """The template (a path or its bytes) with ``submissions`` written in; the .xlsx's bytes."""
    if layout not in ("rows", "sheets"):
        raise WorkbookError(
            "layout is 'rows' or 'sheets', not {layout!r}", field="layout", layout=layout
        )
    parsed = (
        definition if isinstance(definition, Definition) else Definition.model_validate(definition)
    )
    read = read_workbook(template)
    workbook = read.workbook
    keys = _Keys(parsed)
    for page in plan(read, []):
        sheet = workbook[page.sheet.name]
        if page.sheet.style == "rows":
            _fill_rows(sheet, page, submissions, keys)
        elif layout == "sheets":
            _fill_copies(workbook, sheet, page, submissions, keys)
        else:
            _fill_table(workbook, sheet, page, submissions, keys)
    return _saved(workbook)


class _Keys:
    """Where each template field's answer is: by label in the definition, else the drafted id."""

    def __init__(self, definition: Definition) -> None:
        self.by_label: dict[str, str] = {}
        self.types: dict[str, str] = {}
        for page in definition.pages:
            for question in _flattened(page.questions):
                self.by_label.setdefault(question.label.ja, question.id)
                self.types[question.id] = question.type

    def answer(self, drafted: Mapping[str, Any], answers: Answers) -> Any:
        key = self.by_label.get(drafted["label"]["ja"], drafted["id"])
        return cell_value(answers.get(key), self.types.get(key, drafted["type"]))


def _flattened(questions: Sequence[Any]) -> list[Any]:
    found = []
    for question in questions:
        if isinstance(question, Group):
            found += _flattened(question.questions)
        elif not isinstance(question, Guidance):
            found.append(question)
    return found


def cell_value(answer: Any, kind: str = "short_text") -> Any:
    """An answer as a cell value: numbers and dates as such, everything else as text."""
    if answer is None or (isinstance(answer, int | float) and not isinstance(answer, bool)):
        return answer
    if isinstance(answer, bool):
        return "はい" if answer else "いいえ"
    if isinstance(answer, list | tuple):
        return "、".join(str(cell_value(item)) for item in answer if item is not None)
    if isinstance(answer, Mapping):
        return "、".join(str(cell_value(item)) for item in answer.values() if item is not None)
    text = ILLEGAL_CHARACTERS_RE.sub("", str(answer))
    if kind in DATE_TYPES:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    if kind == "number":
        try:
            return int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            return text
    return text


def _write(cell: Cell, value: Any) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # "=HYPERLINK(…)" from the public is text, never a formula


def _top_left(sheet: Worksheet, row: int, col: int) -> Cell:
    cell = sheet.cell(row, col)
    assert isinstance(cell, Cell)  # noqa: S101 - the reader only places answers in top-left cells
    return cell


# --- header-row sheets -----------------------------------------------------------------------


def _fill_rows(
    sheet: Worksheet, page: PlannedPage, submissions: Sequence[Answers], keys: _Keys
) -> None:
    layout = page.sheet
    model_row = layout.header_row + 1
    for number, answers in enumerate(submissions, start=1):
        row = layout.last_row + number
        if layout.serial_column is not None:
            _styled(sheet, model_row, row, layout.serial_column, row - layout.header_row)
        for field, question in page.fields:
            if field.input_area is not None:
                _styled(
                    sheet, model_row, row, field.input_area.min_col, keys.answer(question, answers)
                )


STYLE_PARTS = ("font", "fill", "border", "alignment", "number_format", "protection")


def _copy_style(source: Cell | Any, target: Cell) -> None:
    for part in STYLE_PARTS:
        setattr(target, part, copy(getattr(source, part)))


def _styled(sheet: Worksheet, model_row: int, row: int, col: int, value: Any) -> None:
    cell = _top_left(sheet, row, col)
    model = sheet.cell(model_row, col)
    if row != model_row and model.has_style and not cell.has_style:
        _copy_style(model, cell)
    _write(cell, value)


# --- form-style sheets -----------------------------------------------------------------------


def _fill_copies(
    workbook: Workbook,
    sheet: Worksheet,
    page: PlannedPage,
    submissions: Sequence[Answers],
    keys: _Keys,
) -> None:
    if not submissions:
        return
    position = workbook.index(sheet)
    for number, answers in enumerate(submissions, start=1):
        duplicate = workbook.copy_worksheet(sheet)
        duplicate.title = _free_title(workbook, sheet.title, f"_{number}")
        for validation in sheet.data_validations.dataValidation:
            duplicate.add_data_validation(copy(validation))
        for field, question in page.fields:
            if field.input_area is not None:
                box = field.input_area
                _write(
                    _top_left(duplicate, box.min_row, box.min_col), keys.answer(question, answers)
                )
        workbook.move_sheet(duplicate, position + number - workbook.index(duplicate))
    workbook.remove(sheet)
    workbook.active = 0


def _fill_table(
    workbook: Workbook,
    sheet: Worksheet,
    page: PlannedPage,
    submissions: Sequence[Answers],
    keys: _Keys,
) -> None:
    table = workbook.create_sheet(
        _free_title(workbook, sheet.title, "一覧"), workbook.index(sheet) + 1
    )
    asked = [(f, q) for f, q in page.fields if f.input_area is not None]
    for col, (field, question) in enumerate(asked, start=1):
        header = _top_left(table, 1, col)
        _write(header, question["label"]["ja"])
        label = sheet.cell(field.label_area.min_row, field.label_area.min_col)
        _copy_style(label, header)
        for row, answers in enumerate(submissions, start=2):
            _write(_top_left(table, row, col), keys.answer(question, answers))


def _free_title(workbook: Workbook, base: str, suffix: str) -> str:
    """A sheet name not yet used, at most 31 characters as Excel requires."""
    title, n = base[: 31 - len(suffix)] + suffix, 1
    while title in workbook.sheetnames:
        n += 1
        extra = f"{suffix}_{n}"
        title = base[: 31 - len(extra)] + extra
    return title


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook.save(buffer)
    return buffer.getvalue()
