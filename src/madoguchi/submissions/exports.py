"""Exports of a procedure's submissions: CSV, XLSX and JSON streamed in constant memory, and the
responses written into the Excel template the procedure was drafted from.

The streamed formats read the submissions from a server-side cursor (``queries``) and yield
bytes in chunks of about 64 KB: memory does not grow with the number of submissions. The CSV is
UTF-8 with a byte-order mark (so Excel reads it as UTF-8), CRLF line ends and RFC 4180 quoting,
and a text cell that Excel would run as a formula (starting with = + - @ or a tab or carriage
return) gets a leading apostrophe. The XLSX is an openpyxl write-only workbook (rows go to a
temporary file as they come; text is written as text, never as a formula), saved to a temporary
file that is streamed out and deleted. openpyxl's work runs in a thread, batch by batch, so the
event loop keeps serving other requests.

``in_template`` is not streamed: openpyxl must hold a whole workbook to copy a template's
styles, so it takes at most ``MAX_IN_TEMPLATE`` responses and asks for a narrower filter beyond.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from madoguchi.core.clock import in_japan
from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.core.files import FileStore
from madoguchi.core.i18n import N_, _
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition, Question
from madoguchi.procedures.excel import fill_template
from madoguchi.procedures.models import VersionStatus
from madoguchi.submissions.export_columns import (
    Cell,
    Column,
    columns_of,
    json_answers,
    questions_by_id,
)
from madoguchi.submissions.models import Submission
from madoguchi.submissions.queries import Filters, count_submissions, stream_submissions
from madoguchi.submissions.template_answers import template_answers

CHUNK_SIZE = 64 * 1024
XLSX_BATCH = 200  # rows handed to openpyxl's thread at a time
XLSX_MAX_TEXT = 32_767  # the most characters Excel keeps in a cell
MAX_IN_TEMPLATE = 1_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANNELS = {"web": N_("Web form"), "api": N_("API")}

Row = list[Cell | dt.datetime]


@dataclass(frozen=True)
class ExportLayout:
    """The columns of one procedure's export, with headers already in the request's language."""

    title: str
    columns: list[Column]
    questions: dict[str, Question]
    channels: dict[str, str]

    @property
    def headers(self) -> list[str]:
        fixed = [_("Reference number"), _("Submitted at"), _("Version"), _("Channel")]
        return [*fixed, *(column.header for column in self.columns)]

    def row(self, submission: Submission) -> Row:
        """One submission's cells, in the order of ``headers``."""
        fixed: Row = [
            submission.reference,
            in_japan(submission.submitted_at).replace(tzinfo=None),
            submission.version,
            self.channels.get(submission.channel, submission.channel),
        ]
        return fixed + [
            column.cell(submission.computed if column.computed else submission.answers)
            for column in self.columns
        ]

    def item(self, submission: Submission) -> dict[str, Any]:
        """One submission for the JSON export: answers keyed by question id, in their shapes."""
        return {
            "id": str(submission.id),
            "reference": submission.reference,
            "submitted_at": in_japan(submission.submitted_at).isoformat(),
            "version": submission.version,
            "channel": submission.channel,
            "answers": json_answers(self.questions, submission.answers),
            "computed": dict(submission.computed),
        }


async def export_layout(session: AsyncSession, procedure: procedures.Procedure) -> ExportLayout:
    """The layout over every published version (newest first). Call it inside the request."""
    definitions = await published_definitions(session, procedure)
    title = str(definitions[0].title) if definitions else procedure.slug
    return ExportLayout(
        title=title,
        columns=columns_of(definitions),
        questions=questions_by_id(definitions),
        channels={key: _(label) for key, label in CHANNELS.items()},
    )


async def published_definitions(
    session: AsyncSession, procedure: procedures.Procedure
) -> list[Definition]:
    """Every published version's definition, newest first (an adopter's are its template's)."""
    versions = await procedures.published_versions(session, await _holder(session, procedure))
    return [
        Definition.model_validate(version.definition)
        for version in reversed(versions)
        if version.status == VersionStatus.PUBLISHED
    ]


async def _holder(session: AsyncSession, procedure: procedures.Procedure) -> procedures.Procedure:
    """The procedure whose versions applicants answer: an adopted template's, or its own."""
    if procedure.template_procedure_id is None:
        return procedure
    return await procedures.get_procedure_by_id(session, procedure.template_procedure_id)


async def submissions_in_own_session(
    factory: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    procedure_id: uuid.UUID,
    filters: Filters,
) -> AsyncIterator[Submission]:
    """The stream for a response body, which is sent after the request's unit of work ended:
    it reads in a session of its own, read-only, closed when the stream ends or is abandoned."""
    async with factory() as session:
        async for submission in stream_submissions(session, tenant_id, procedure_id, filters):
            yield submission


# --- CSV ----------------------------------------------------------------------------------------


async def csv_chunks(
    layout: ExportLayout, submissions: AsyncIterable[Submission]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([csv_text(header) for header in layout.headers])
    async for submission in submissions:
        writer.writerow([csv_text(cell) for cell in layout.row(submission)])
        if buffer.tell() >= CHUNK_SIZE:
            yield _drained(buffer)
    yield _drained(buffer)


def _drained(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def csv_text(value: Cell | dt.datetime) -> str:
    """A cell as CSV text; text that Excel would run as a formula is defused with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- JSON ---------------------------------------------------------------------------------------


async def json_chunks(
    layout: ExportLayout, submissions: AsyncIterable[Submission]
) -> AsyncIterator[bytes]:
    """One JSON array, written item by item."""
    parts = ["["]
    size, separator = 1, "\n"
    async for submission in submissions:
        text = separator + json.dumps(layout.item(submission), ensure_ascii=False)
        parts.append(text)
        size += len(text)
        separator = ",\n"
        if size >= CHUNK_SIZE:
            yield "".join(parts).encode()
            parts, size = [], 0
    parts.append("\n]\n")
    yield "".join(parts).encode()


# --- XLSX ---------------------------------------------------------------------------------------


async def write_xlsx(
    layout: ExportLayout, submissions: AsyncIterable[Submission]
) -> AsyncIterator[bytes]:
    """A write-only workbook built in a temporary file, streamed out, then deleted."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        path = Path(handle.name)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_sheet_title(layout.title))
        sheet.append([_header_cell(sheet, header) for header in layout.headers])
        batch: list[Row] = []
        async for submission in submissions:
            batch.append(layout.row(submission))
            if len(batch) >= XLSX_BATCH:
                await asyncio.to_thread(_append_rows, sheet, batch)
                batch = []
        await asyncio.to_thread(_append_rows, sheet, batch)
        await asyncio.to_thread(workbook.save, path)
        async for chunk in _file_chunks(path):
            yield chunk
    finally:
        _remove(path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as stream:
        while chunk := await asyncio.to_thread(stream.read, CHUNK_SIZE):
            yield chunk


def _sheet_title(title: str) -> str:
    """At most 31 characters and none of those Excel forbids in a sheet name."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip("' ")
    return cleaned[:31] or "Sheet1"


def _header_cell(sheet: WriteOnlyWorksheet, header: str) -> SheetCell:
    cell = WriteOnlyCell(sheet, xlsx_value(header))
    cell.font = Font(bold=True)
    cell.data_type = "s"
    return cell


def _append_rows(sheet: WriteOnlyWorksheet, rows: Sequence[Row]) -> None:
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell | dt.datetime) -> Any:
    if not isinstance(value, str):
        return value
    text = xlsx_value(value)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"  # what an applicant typed is text, never a formula
    return cell


def xlsx_value(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_TEXT]


# --- the original template ------------------------------------------------------------------


async def in_template(
    session: AsyncSession,
    store: FileStore,
    procedure: procedures.Procedure,
    filters: Filters,
) -> bytes:
    """The matching responses in the current version's workbook: one row each on header-row
    sheets, one copy of the sheet each on form-style sheets. NotFound without a workbook."""
    version = (await procedures.current(session, procedure)).version
    sha256 = version.workbook_sha256
    if sha256 is None or not store.exists(sha256):
        raise NotFound(
            "This procedure was not made from an Excel workbook, so there is no layout to fill.",
            field="procedure",
        )
    total = await count_submissions(session, procedure.tenant_id, procedure.id, filters)
    if total > MAX_IN_TEMPLATE:
        raise InvalidInput(
            "{count} responses match: choose dates that give at most {most}.",
            field="from",
            count=total,
            most=MAX_IN_TEMPLATE,
        )
    questions = questions_by_id(await published_definitions(session, procedure))
    answers = [
        template_answers(questions, submission.answers)
        async for submission in stream_submissions(
            session, procedure.tenant_id, procedure.id, filters
        )
    ]
    template = store.read(sha256)
    return await asyncio.to_thread(fill_template, template, version.definition, answers, "sheets")


def attachment(filename: str, fallback: str) -> str:
    """A Content-Disposition value (RFC 6266): ``filename*`` in UTF-8, and a plain ASCII
    ``filename`` for clients that do not read it (anything else in it becomes ``_``)."""
    plain = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in fallback
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


Producer = Callable[[ExportLayout, AsyncIterable[Submission]], AsyncIterator[bytes]]
MEDIA_TYPES: Mapping[str, tuple[str, Producer]] = {
    "csv": ("text/csv; charset=utf-8", csv_chunks),
    "xlsx": (XLSX_MEDIA_TYPE, write_xlsx),
    "json": ("application/json", json_chunks),
}
