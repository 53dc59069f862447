"""A draft procedure definition from an Excel template: one page per sheet, one question per label.

The draft is a plain dict in the ``madoguchi.procedure/1`` format with Japanese texts only; what
the reader could not interpret is returned beside it as notes. ``plan`` is shared with
``filling``, so that the ids a draft gives are the ids a filled template is looked up by.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from madoguchi.procedures.definition import FORMAT
from madoguchi.procedures.excel.guessing import clean_label, guess_type, slugified, unit_of
from madoguchi.procedures.excel.reading import (
    Field,
    SheetLayout,
    Source,
    WorkbookError,
    WorkbookLayout,
    read_workbook,
)
from madoguchi.procedures.excel.validations import Rule, interpret

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
GENERIC_SHEET_NAME = re.compile(r"^(sheet|シート)\s*\d*$", re.IGNORECASE)
FALLBACK_SLUG = "excel-form"


@dataclass(frozen=True)
class Draft:
    definition: dict[str, Any]
    notes: list[str]


@dataclass(frozen=True)
class PlannedPage:
    sheet: SheetLayout
    page: dict[str, Any]
    fields: list[tuple[Field, dict[str, Any]]]  # each field with the question drafted for it


def draft_from_workbook(source: Source, owner: str, slug: str | None = None) -> Draft:
    """Draft a definition from the .xlsx at ``source`` (a path or its bytes)."""
    if slug is not None and not SLUG.match(slug):
        raise WorkbookError(
            "{slug!r} is not a slug: lower-case letters, digits and hyphens",
            field="slug",
            slug=slug,
        )
    layout = read_workbook(source)
    notes = list(layout.notes)
    pages = plan(layout, notes)
    if not pages:
        raise WorkbookError("found nothing to ask in the workbook", field="file")
    title = _title(layout, source)
    definition = {
        "format": FORMAT,
        "slug": slug or _slug(layout, source, notes),
        "owner": owner,
        "title": {"ja": title},
        "summary": {"ja": f"Excel様式「{title}」から作成した下書きです。"},
        "pages": [planned.page for planned in pages],
        "confirmation": {"ja": "受け付けました。ご提出ありがとうございました。"},
    }
    notes.append("summary and confirmation are placeholders: rewrite them before publishing")
    return Draft(definition, notes)


def draft_yaml(draft: Draft) -> str:
    """The draft as YAML, Japanese kept readable, with the notes as comments at the top."""
    yaml = YAML()
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(draft.definition, buffer)
    header = "# Drafted from an Excel template: review every question before publishing.\n"
    if draft.notes:
        header += "# Notes:\n" + "".join(f"#   - {note}\n" for note in draft.notes)
    return header + buffer.getvalue()


def plan(layout: WorkbookLayout, notes: list[str]) -> list[PlannedPage]:
    ids = _Ids()
    pages = []
    for index, sheet in enumerate(layout.sheets, start=1):
        notes.extend(sheet.notes)
        fields = [(f, _question(f, sheet, layout, ids, notes)) for f in sheet.fields]
        page = {
            "id": ids.page(sheet.name, index),
            "title": {"ja": _page_title(sheet)},
            "questions": [question for _, question in fields],
        }
        pages.append(PlannedPage(sheet, page, fields))
    return pages


class _Ids:
    """Stable ids: an English-ish label slugified, else q1, q2… in reading order."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.pages: set[str] = set()
        self.count = 0

    def question(self, label: str, prefix: str = "q") -> str:
        self.count += 1
        return self._unique(slugified(label) or f"{prefix}{self.count}", self.used)

    def page(self, name: str, index: int) -> str:
        return self._unique(slugified(name) or f"page{index}", self.pages)

    @staticmethod
    def _unique(candidate: str, used: set[str]) -> str:
        chosen, n = candidate, 1
        while chosen in used:
            n += 1
            chosen = f"{candidate}_{n}"
        used.add(chosen)
        return chosen


def _question(
    field: Field, sheet: SheetLayout, layout: WorkbookLayout, ids: _Ids, notes: list[str]
) -> dict[str, Any]:
    if field.is_guidance:
        return {"id": ids.question("", "guidance"), "type": "guidance", "text": {"ja": field.label}}
    label, required = clean_label(field.label)
    where = f"{sheet.name}!{field.label_area.coordinate}"
    rule = None
    if field.validation is not None:
        worksheet = layout.workbook[sheet.name]
        rule, found = interpret(field.validation, layout.workbook, worksheet, where)
        notes.extend(found)
    question: dict[str, Any] = {"id": ids.question(label), "type": guess_type(label)}
    question["label"] = {"ja": label}
    hints = [*field.comments, *([rule.prompt] if rule and rule.prompt else [])]
    if hints:
        question["hint"] = {"ja": " ".join(dict.fromkeys(hints))}
    question["required"] = required
    _shape(question, field, rule, where, notes)
    return question


def _shape(
    question: dict[str, Any], field: Field, rule: Rule | None, where: str, notes: list[str]
) -> None:
    """Set the type and its settings from the validation, else from the label and the box."""
    kind = rule.kind if rule else None
    if kind == "choice" and rule:
        question["type"] = "choice"
        question["style"] = "radio" if len(rule.options) <= 5 else "select"
        question["options"] = [{"value": o, "label": {"ja": o}} for o in rule.options]
    elif kind == "number" and rule:
        question["type"] = "number"
        question["integer"] = rule.integer
        _set(question, minimum=_number(rule.minimum), maximum=_number(rule.maximum))
    elif kind == "date" and rule:
        _date(question, rule, where, notes)
    elif question["type"] == "number":
        question["integer"] = True
    box = field.input_area
    if question["type"] == "short_text" and box is not None and box.height > 1:
        question["type"] = "long_text"
    if kind == "text" and rule and rule.max_length:
        _max_length(question, rule.max_length, where, notes)
    unit = unit_of(question["label"]["ja"])
    if question["type"] == "number" and unit:
        question["unit"] = {"ja": unit}


def _date(question: dict[str, Any], rule: Rule, where: str, notes: list[str]) -> None:
    if question["type"] == "date_of_birth":
        if rule.earliest or rule.latest:
            notes.append(f"{where}: date bounds are not kept on a date of birth")
        return
    question["type"] = "date"
    _set(question, earliest=rule.earliest, latest=rule.latest)


def _max_length(question: dict[str, Any], longest: int, where: str, notes: list[str]) -> None:
    if question["type"] == "short_text" and longest > 1000:
        question["type"] = "long_text"
    if question["type"] in ("short_text", "long_text"):
        question["max_length"] = max(1, longest)
    else:
        notes.append(f"{where}: the length limit {longest} is not kept on a {question['type']}")


def _set(question: dict[str, Any], **settings: Any) -> None:
    question.update({key: value for key, value in settings.items() if value is not None})


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def _page_title(sheet: SheetLayout) -> str:
    if sheet.title and GENERIC_SHEET_NAME.match(sheet.name):
        return sheet.title
    return sheet.name


def _title(layout: WorkbookLayout, source: Source) -> str:
    titled = str(layout.workbook.properties.title or "")
    first = layout.sheets[0]
    if titled and titled.strip():
        return titled.strip()
    if first.title:
        return first.title
    if not isinstance(source, bytes) and not GENERIC_SHEET_NAME.match(Path(source).stem):
        return Path(source).stem
    return _page_title(first)


def _slug(layout: WorkbookLayout, source: Source, notes: list[str]) -> str:
    candidates = [layout.workbook.properties.title or ""]
    if not isinstance(source, bytes):
        candidates.append(Path(source).stem)
    for candidate in candidates:
        slug = slugified(candidate, "-")
        if slug and SLUG.match(slug):
            return slug
    notes.append(f"the slug {FALLBACK_SLUG!r} is a placeholder: choose one (--slug)")
    return FALLBACK_SLUG
