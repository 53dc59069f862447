"""Responses exported into the Excel template the procedure was drafted from."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.procedures import service as procedures
from madoguchi.procedures.excel import draft_from_workbook, draft_yaml
from madoguchi.submissions import exports
from tests.procedures import templates
from tests.submissions.export_support import committed, submit_to
from tests.support.officials import signed_in_official

OWNER = "131016"


@pytest.fixture
def staff(client: TestClient, database_url: str) -> uuid.UUID:
    """``client`` signed in as a caseworker (exports need one) of the bodies exported from."""
    return signed_in_official(client, database_url, ("soumu", "131016"), OfficialRole.CASEWORKER)


async def _from_workbook(
    session: AsyncSession, store: FileStore, workbook: bytes, slug: str
) -> None:
    """Draft, save and publish a procedure from ``workbook``, remembering the workbook."""
    draft = draft_from_workbook(workbook, owner=OWNER, slug=slug)
    version = await procedures.save_draft(session, OWNER, draft_yaml(draft))
    version.workbook_sha256 = store.store(workbook).sha256
    procedure = await procedures.get_procedure(session, OWNER, slug)
    await procedures.publish(session, procedure, version.version)


def _url(slug: str) -> str:
    return f"/staff/bodies/{OWNER}/procedures/{slug}/submissions/in-template.xlsx"


def _opened(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def _sheet(workbook: Workbook, name: str) -> Worksheet:
    found = workbook[name]
    assert isinstance(found, Worksheet)
    return found


def _person(family: str, given: str, kana: tuple[str, str]) -> dict[str, Any]:
    return {"family": family, "given": given, "family_kana": kana[0], "given_kana": kana[1]}


async def test_header_row_sheets_get_one_row_per_response(
    client: TestClient, database_url: str, settings: Settings, staff: uuid.UUID
) -> None:
    store = FileStore.from_settings(settings)
    async with committed(database_url) as session:
        await _from_workbook(session, store, templates.event_registration(), "event")
        for name, kana, people in (("佐藤", "サトウ", "2"), ("鈴木", "スズキ", "3")):
            given = {
                "q1": _person(name, "花子", (kana, "ハナコ")),
                "q2": kana,
                "q3": "090-1234-5678",
                "q4": people,
                "q5": "令和8年4月12日",
                "q6": "市外",
            }
            await submit_to(session, OWNER, "event", given)

    answer = client.get(_url("event"))

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert "in-template" in answer.headers["content-disposition"]
    rows = _sheet(_opened(answer.content), "参加申込一覧")
    assert [c.value for c in rows[2]][:5] == [1, "佐藤 花子", "サトウ", "090-1234-5678", 2]
    assert [c.value for c in rows[3]][:5] == [2, "鈴木 花子", "スズキ", "090-1234-5678", 3]
    assert rows["G3"].value == "市外" and rows["F2"].value.day == 12
    assert rows["B3"].border.left.style == "thin"  # the template's style, kept


async def test_form_sheets_get_one_sheet_per_response_and_filters_apply(
    client: TestClient, database_url: str, settings: Settings, staff: uuid.UUID
) -> None:
    store = FileStore.from_settings(settings)
    async with committed(database_url) as session:
        await _from_workbook(session, store, templates.public_comment(), "comment")
        for who, opinion in (("○○大学", "=1+1 賛成です。"), ("株式会社××", "反対です。")):
            given = {"q2": who, "q3": "a@example.jp", "q4": "全体について", "q5": opinion}
            await submit_to(session, OWNER, "comment", given)

    filled = _opened(client.get(_url("comment")).content)

    assert filled.sheetnames == ["意見提出様式_1", "意見提出様式_2"]
    first = _sheet(filled, "意見提出様式_1")
    assert [first[c].value for c in ("B4", "B6", "B7")] == [
        "○○大学",
        "全体について",
        "=1+1 賛成です。",
    ]
    assert first["B7"].data_type == "s"  # text, never a formula
    assert _sheet(filled, "意見提出様式_2")["B4"].value == "株式会社××"

    narrowed = _opened(client.get(_url("comment"), params={"q": "反対"}).content)
    assert narrowed.sheetnames == ["意見提出様式_1"]
    assert _sheet(narrowed, "意見提出様式_1")["B7"].value == "反対です。"


async def test_too_many_responses_for_one_workbook_ask_for_narrower_dates(
    client: TestClient,
    database_url: str,
    settings: Settings,
    staff: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = FileStore.from_settings(settings)
    async with committed(database_url) as session:
        await _from_workbook(session, store, templates.public_comment(), "comment")
        for who in ("○○大学", "株式会社××"):
            given = {"q2": who, "q3": "a@example.jp", "q4": "全体について", "q5": "意見"}
            await submit_to(session, OWNER, "comment", given)
    monkeypatch.setattr(exports, "MAX_IN_TEMPLATE", 1)

    answer = client.get(_url("comment"))

    assert answer.status_code == 422
    assert "2" in answer.text
    assert client.get(_url("comment"), params={"q": "○○"}).status_code == 200


def test_a_procedure_not_made_from_a_workbook_has_no_template(
    client: TestClient, staff: uuid.UUID
) -> None:
    answer = client.get(
        "/staff/bodies/soumu/procedures/metaverse-consultation/submissions/in-template.xlsx",
    )
    assert answer.status_code == 404
    assert "Excel" in answer.text
