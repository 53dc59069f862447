"""Opening an .xlsx template and finding what it asks, sheet by sheet.

Each visible worksheet is read in one of two styles (``detect_style`` decides):

* **rows** — a table: the first non-empty row (after an optional one-cell title row) holds one
  label per column and every later row is one response. A sheet is read this way when that row has
  at least two cells, all of them text, none ending with ``：``/``:``, side by side with no empty
  column between them, and everything below stands under those columns and is not itself a label
  ending with a colon.
* **form** — everything else: a label cell with its input cell to its right (or, when the right
  cell does not look like an input box and the cell below does, below it). A one-cell first row
  that is merged across columns, bold or large is the sheet's title, not a label.

What the reader cannot interpret becomes a note, never silently dropped.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import openpyxl
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_

Source = str | os.PathLike[str] | bytes
Style = Literal["rows", "form"]
COLONS = ("：", ":")
SERIAL_LABELS = {"no", "no.", "№", "番号", "連番", "#"}
EXPLANATION = re.compile(r"^(※|＊|\*|・|注|[(（]注)")


class WorkbookError(InvalidInput):
    code = "invalid-workbook"
    title = N_("The Excel file could not be read")


@dataclass(frozen=True)
class Area:
    """One cell, or a merged range of cells, counted once."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def coordinate(self) -> str:
        return f"{get_column_letter(self.min_col)}{self.min_row}"

    @property
    def height(self) -> int:
        return self.max_row - self.min_row + 1

    @property
    def width(self) -> int:
        return self.max_col - self.min_col + 1


@dataclass(frozen=True)
class Field:
    """One thing a sheet asks (or, for ``guidance``, says): its label and where the answer goes."""

    label: str
    label_area: Area
    input_area: Area | None
    validation: DataValidation | None = None
    comments: tuple[str, ...] = ()

    @property
    def is_guidance(self) -> bool:
        return self.input_area is None


@dataclass
class SheetLayout:
    name: str
    style: Style
    title: str | None
    fields: list[Field]
    header_row: int = 0  # rows style: the header's row
    last_row: int = 0  # rows style: the last row that already holds values
    serial_column: int | None = None  # rows style: a "No." column numbered, not asked
    notes: list[str] = field(default_factory=list)


@dataclass
class WorkbookLayout:
    workbook: Workbook
    sheets: list[SheetLayout]
    notes: list[str]


def open_workbook(source: Source) -> tuple[Workbook, list[str]]:
    """The workbook in ``source`` (a path or the file's bytes), and what the reader warned about."""
    data = _bytes_of(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data))
        except Exception as error:  # noqa: BLE001 - any failure to parse an uploaded file is expected
            raise WorkbookError(
                "not a readable .xlsx workbook ({reason}); save it from Excel as .xlsx and retry",
                field="file",
                reason=str(error) or type(error).__name__,
            ) from None
    return workbook, [f"the Excel reader warned: {warning.message}" for warning in caught]


def _bytes_of(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise WorkbookError(
            "cannot read {path}: {reason}", field="file", path=str(source), reason=error.strerror
        ) from None


def read_workbook(source: Source) -> WorkbookLayout:
    workbook, notes = open_workbook(source)
    sheets = []
    for chart in workbook.chartsheets:
        notes.append(f"chart sheet {chart.title!r} skipped: charts ask nothing")
    for worksheet in workbook.worksheets:
        if worksheet.sheet_state != "visible":
            notes.append(f"hidden sheet {worksheet.title!r} skipped (read only as a list source)")
            continue
        layout = read_sheet(worksheet)
        if layout is None:
            notes.append(f"sheet {worksheet.title!r} is empty; skipped")
        elif not layout.fields:
            notes.extend(layout.notes)
            notes.append(f"sheet {worksheet.title!r} has nothing to ask; skipped")
        else:
            sheets.append(layout)
    return WorkbookLayout(workbook, sheets, notes)


def read_sheet(worksheet: Worksheet) -> SheetLayout | None:
    grid = Grid(worksheet)
    if not grid.values:
        return None
    title, first_row = _title_and_first_row(grid)
    if detect_style(grid, first_row) == "rows":
        layout = _read_rows(grid, title, first_row)
    else:
        layout = _read_form(grid, title)
    if getattr(worksheet, "_images", None):
        layout.notes.append(f"{worksheet.title}: images are not read")
    return layout


# --- the grid: values, merged ranges, comments ------------------------------------------------


class Grid:
    """A worksheet's non-empty cells, with merged ranges counted once."""

    def __init__(self, worksheet: Worksheet) -> None:
        self.sheet = worksheet
        self.merged = list(worksheet.merged_cells.ranges)
        self.values: dict[tuple[int, int], Any] = {}
        # _cells holds only the cells the file has: iter_rows would fill the whole used rectangle,
        # millions of cells in a template formatted down to its last row.
        for (row, col), cell in sorted(worksheet._cells.items()):
            if not isinstance(cell, MergedCell) and not _is_blank(cell.value):
                self.values[(row, col)] = cell.value

    def area(self, row: int, col: int) -> Area:
        for merged in self.merged:
            if merged.min_row <= row <= merged.max_row and merged.min_col <= col <= merged.max_col:
                return Area(merged.min_row, merged.min_col, merged.max_row, merged.max_col)
        return Area(row, col, row, col)

    def value(self, area: Area) -> Any:
        return self.values.get((area.min_row, area.min_col))

    def text(self, area: Area) -> str | None:
        """The area's text, or None for a number, a date or a formula."""
        value = self.value(area)
        return normalise(value) if isinstance(value, str) and value[:1] != "=" else None

    def cols_in_row(self, row: int) -> list[int]:
        return sorted(col for (r, col) in self.values if r == row)

    def rows(self) -> list[int]:
        return sorted({row for row, _ in self.values})

    def cell(self, area: Area) -> Cell:
        cell = self.sheet.cell(area.min_row, area.min_col)
        assert isinstance(cell, Cell)  # noqa: S101 - the top-left cell of an area is never merged
        return cell

    def comments(self, *areas: Area) -> tuple[str, ...]:
        found = []
        for area in areas:
            comment = self.sheet.cell(area.min_row, area.min_col).comment
            if comment is not None and comment.text.strip():
                found.append(_without_author(comment.text, comment.author))
        return tuple(found)

    def validation(self, area: Area, below_only: bool = False) -> DataValidation | None:
        """The data validation over the area (``below_only``: anywhere in its column below it)."""
        validations: list[DataValidation] = self.sheet.data_validations.dataValidation
        for validation in validations:
            for ranged in validation.sqref.ranges:
                if _covers(ranged.bounds, area, below_only):
                    return validation
        return None

    def looks_like_input(self, area: Area) -> bool:
        """A box someone drew to write in: merged, bordered, filled or validated."""
        if area.height > 1 or area.width > 1 or self.validation(area):
            return True
        cell = self.cell(area)
        sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
        return any(side is not None and side.style for side in sides) or bool(cell.fill.fill_type)


def _covers(bounds: tuple[int, int, int, int], area: Area, below_only: bool) -> bool:
    min_col, min_row, max_col, max_row = bounds
    if not min_col <= area.min_col <= max_col:
        return False
    if below_only:
        return max_row > area.max_row
    return min_row <= area.min_row <= max_row


def _without_author(text: str, author: str | None) -> str:
    if author and text.startswith(f"{author}:"):
        text = text[len(author) + 1 :]
    return normalise(text)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise(text: str) -> str:
    """NFC, with line breaks and runs of spaces (also full-width) made one space."""
    return re.sub(r"[\s\u3000]+", " ", unicodedata.normalize("NFC", text)).strip()


def ends_with_colon(text: str) -> bool:
    return text.rstrip().endswith(COLONS)


# --- detection ---------------------------------------------------------------------------------


def _title_and_first_row(grid: Grid) -> tuple[str | None, int]:
    rows = grid.rows()
    first = rows[0]
    cols = grid.cols_in_row(first)
    if len(rows) > 1 and len(cols) == 1:
        area = grid.area(first, cols[0])
        text = grid.text(area)
        next_is_header = len(grid.cols_in_row(rows[1])) >= 2
        if text and not ends_with_colon(text) and (next_is_header or _stands_out(grid, area)):
            return text, rows[1]
    return None, first


def _stands_out(grid: Grid, area: Area) -> bool:
    font = grid.cell(area).font
    return area.width > 1 or bool(font.b) or (font.sz or 11) >= 13


def detect_style(grid: Grid, first_row: int) -> Style:
    cols = grid.cols_in_row(first_row)
    if len(cols) < 2:
        return "form"
    areas = [grid.area(first_row, col) for col in cols]
    if any(not grid.text(a) or ends_with_colon(grid.text(a) or "") for a in areas):
        return "form"
    if any(a.height > 1 for a in areas) or not _side_by_side(areas):
        return "form"
    spanned = {col for a in areas for col in range(a.min_col, a.max_col + 1)}
    for (row, col), value in grid.values.items():
        if row <= first_row:
            continue
        if col not in spanned or (isinstance(value, str) and ends_with_colon(value)):
            return "form"
    return "rows"


def _side_by_side(areas: list[Area]) -> bool:
    return all(left.max_col + 1 == right.min_col for left, right in itertools.pairwise(areas))


# --- rows style --------------------------------------------------------------------------------


def _read_rows(grid: Grid, title: str | None, header_row: int) -> SheetLayout:
    name = grid.sheet.title
    layout = SheetLayout(name, "rows", title, [], header_row=header_row)
    for col in grid.cols_in_row(header_row):
        header = grid.area(header_row, col)
        label = grid.text(header) or ""
        first_input = Area(header_row + 1, col, header_row + 1, col)
        below = grid.values.get((header_row + 1, col))
        if label.lower() in SERIAL_LABELS:
            layout.serial_column = col
            layout.notes.append(f"{name}: column {label!r} numbers the rows; not asked")
        elif isinstance(below, str) and below.startswith("="):
            layout.notes.append(f"{name}: column {label!r} is computed by a formula; not asked")
        else:
            validation = grid.validation(header, below_only=True)
            comments = grid.comments(header, first_input)
            layout.fields.append(Field(label, header, first_input, validation, comments))
    layout.last_row = max(row for row, _ in grid.values)
    if layout.last_row > header_row:
        first, last = header_row + 1, layout.last_row
        rows = f"row {first}" if first == last else f"rows {first}–{last}"
        layout.notes.append(
            f"{name}: {rows} already hold values (examples or earlier responses); "
            "they are not read, and responses are written below them"
        )
    return layout


# --- form style --------------------------------------------------------------------------------


def _read_form(grid: Grid, title: str | None) -> SheetLayout:
    name = grid.sheet.title
    layout = SheetLayout(name, "form", title, [])
    used: set[tuple[int, int]] = set()
    title_row = grid.rows()[0] if title is not None else None
    for row, col in sorted(grid.values):
        area = grid.area(row, col)
        if (row, col) in used or row == title_row:
            continue
        _claim(used, area)
        text = grid.text(area)
        where = f"{name}!{area.coordinate}"
        if text is None:
            layout.notes.append(f"{where}: {grid.value(area)!r} is not a label; skipped")
        elif EXPLANATION.match(text) or (len(text) > 40 and not ends_with_colon(text)):
            layout.fields.append(Field(text, area, None, comments=grid.comments(area)))
        else:
            layout.fields.extend(_label_field(grid, area, text, used, layout.notes))
    return layout


def _label_field(
    grid: Grid, label: Area, text: str, used: set[tuple[int, int]], notes: list[str]
) -> list[Field]:
    where = f"{grid.sheet.title}!{label.coordinate}"
    right = grid.area(label.min_row, label.max_col + 1)
    formula = grid.value(right)
    if isinstance(formula, str) and formula.startswith("="):
        _claim(used, right)
        notes.append(f"{where}: {text!r} is computed by a formula ({formula}); not asked")
        return []
    box = _input_for(grid, label, used)
    if box is None:
        notes.append(f"{where}: no empty input cell right of or below {text!r}; skipped")
        return []
    _claim(used, box)
    return [Field(text, label, box, grid.validation(box), grid.comments(label, box))]


def _input_for(grid: Grid, label: Area, used: set[tuple[int, int]]) -> Area | None:
    right = grid.area(label.min_row, label.max_col + 1)
    below = grid.area(label.max_row + 1, label.min_col)

    def free(area: Area) -> bool:
        cells = _cells_of(area)
        return not any(cell in used or cell in grid.values for cell in cells)

    for candidate, need_box in ((right, True), (below, True), (right, False), (below, False)):
        if free(candidate) and (not need_box or grid.looks_like_input(candidate)):
            return candidate
    return None


def _cells_of(area: Area) -> list[tuple[int, int]]:
    return [
        (row, col)
        for row in range(area.min_row, area.max_row + 1)
        for col in range(area.min_col, area.max_col + 1)
    ]


def _claim(used: set[tuple[int, int]], area: Area) -> None:
    used.update(_cells_of(area))
