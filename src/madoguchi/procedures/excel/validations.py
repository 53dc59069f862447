"""Excel data validations read as rules a question can keep: options, bounds, dates, lengths.

A list validation gives its options from a quoted list (``"a,b,c"``), a range on the same or
another sheet (``lists!$A$2:$A$5``) or a defined name. Whole-number and decimal validations give
bounds, date validations give the earliest and latest date, text-length validations a maximum.
Anything else (custom formulas, times, bounds that refer to cells) is reported, not guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from openpyxl.utils import range_boundaries
from openpyxl.utils.datetime import from_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from madoguchi.procedures.excel.reading import normalise

RANGE = re.compile(
    r"^(?:(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!'\"]+))!)?"  # an optional sheet name
    r"(?P<cells>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)$"
)
DATE_FUNCTION = re.compile(r"^DATE\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)$", re.IGNORECASE)
MAX_OPTIONS = 200


@dataclass(frozen=True)
class Rule:
    kind: Literal["choice", "number", "date", "text"]
    options: tuple[str, ...] = ()
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    earliest: dt.date | None = None
    latest: dt.date | None = None
    max_length: int | None = None
    prompt: str | None = None


def interpret(
    validation: DataValidation, workbook: Workbook, sheet: Worksheet, where: str
) -> tuple[Rule | None, list[str]]:
    """The rule ``validation`` sets, and notes on what of it could not be read."""
    notes: list[str] = []
    prompt = normalise(validation.prompt) if validation.prompt else None
    kind = validation.type
    if kind == "list":
        options = _options(validation.formula1 or "", workbook, sheet, where, notes)
        rule = Rule("choice", options=options, prompt=prompt) if options else None
    elif kind in ("whole", "decimal"):
        low, high = _bounds(validation, kind, where, notes)
        rule = Rule(
            "number", integer=kind == "whole", minimum=_float(low), maximum=_float(high),
            prompt=prompt,
        )  # fmt: skip
    elif kind == "date":
        earliest, latest = _bounds(validation, kind, where, notes)
        rule = Rule("date", earliest=_date(earliest), latest=_date(latest), prompt=prompt)
    elif kind == "textLength":
        _, longest = _bounds(validation, "whole", where, notes)
        longest = _float(longest)
        rule = Rule("text", max_length=int(longest) if longest else None, prompt=prompt)
    else:
        notes.append(f"{where}: a {kind or 'custom'} validation cannot become a question rule")
        rule = Rule("text", prompt=prompt) if prompt else None
    return rule, notes


def _float(bound: Bound) -> float | None:
    return bound if isinstance(bound, float) else None


def _date(bound: Bound) -> dt.date | None:
    return bound if isinstance(bound, dt.date) else None


def _options(
    formula: str, workbook: Workbook, sheet: Worksheet, where: str, notes: list[str]
) -> tuple[str, ...]:
    formula = formula.strip().removeprefix("=")
    if formula.startswith('"') and formula.endswith('"'):
        values = re.split(r"[,，]", formula[1:-1])
    else:
        found = _cells_of(formula, workbook, sheet)
        if found is None:
            notes.append(f"{where}: the list {formula!r} could not be read; asked as text")
            return ()
        values = found
    return _cleaned(values, where, notes)


def _cleaned(values: list[str], where: str, notes: list[str]) -> tuple[str, ...]:
    options: list[str] = []
    for value in (normalise(v) for v in values):
        if value and value not in options:
            options.append(value[:100])
    if len(options) > MAX_OPTIONS:
        notes.append(f"{where}: the list has {len(options)} options; only {MAX_OPTIONS} kept")
    if not options:
        notes.append(f"{where}: the list is empty; asked as text")
    return tuple(options[:MAX_OPTIONS])


def _cells_of(formula: str, workbook: Workbook, sheet: Worksheet) -> list[str] | None:
    destination = _named(formula, workbook, sheet)
    match = RANGE.match(destination or formula)
    if match is None:
        return None
    name = match["quoted"].replace("''", "'") if match["quoted"] else match["plain"]
    if name is not None and name not in workbook.sheetnames:
        return None
    target = workbook[name] if name else sheet
    min_col, min_row, max_col, max_row = range_boundaries(match["cells"].replace("$", ""))
    rows = target.iter_rows(min_row, max_row, min_col, max_col, values_only=True)
    return [str(value) for row in rows for value in row if value is not None]


def _named(formula: str, workbook: Workbook, sheet: Worksheet) -> str | None:
    defined = sheet.defined_names.get(formula) or workbook.defined_names.get(formula)
    return defined.attr_text if defined is not None else None


def _bounds(
    validation: DataValidation, kind: str, where: str, notes: list[str]
) -> tuple[Bound, Bound]:
    """(lowest, highest) allowed, inclusive; an exclusive bound is moved one step inwards."""
    operator = validation.operator or "between"
    first = _parse(validation.formula1, kind, where, notes)
    second = _parse(validation.formula2, kind, where, notes)
    if operator in ("notBetween", "notEqual"):
        notes.append(f"{where}: a {operator} validation cannot become bounds; no bounds kept")
        return None, None
    bounds: dict[str, tuple[Bound, Bound]] = {
        "between": (first, second),
        "equal": (first, first),
        "greaterThanOrEqual": (first, None),
        "lessThanOrEqual": (None, first),
        "greaterThan": (_step(first, kind, 1, where, notes), None),
        "lessThan": (None, _step(first, kind, -1, where, notes)),
    }
    return bounds.get(operator, (None, None))


Bound = float | dt.date | None


def _parse(formula: str | None, kind: str, where: str, notes: list[str]) -> Bound:
    if formula is None:
        return None
    text = formula.strip().removeprefix("=")
    try:
        number = float(text)
    except ValueError:
        match = DATE_FUNCTION.match(text) if kind == "date" else None
        if match:
            return dt.date(*(int(part) for part in match.groups()))
        notes.append(f"{where}: the bound {formula!r} is not a plain value; ignored")
        return None
    if kind == "date":
        moment = from_excel(number)
        return moment.date() if isinstance(moment, dt.datetime) else None
    return number


def _step(bound: Bound, kind: str, direction: int, where: str, notes: list[str]) -> Bound:
    if isinstance(bound, dt.date):
        return bound + dt.timedelta(days=direction)
    if bound is not None and kind == "whole":
        return bound + direction
    if bound is not None:
        notes.append(f"{where}: the exclusive bound {bound:g} is kept as inclusive")
    return bound
