"""The staff page that reveals one My Number (supervisors, a declared purpose and a reason, never
stored), and the My Number shown only masked in staff pages, exports and the receipt."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from madoguchi.core.files import FileStore
from madoguchi.core.my_number_keys import KeyRing, key_ring
from madoguchi.core.settings import Settings
from madoguchi.identity.models import AuditEntry
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.procedures.loader import load_definition
from madoguchi.submissions.models import Submission
from madoguchi.submissions.receipts import ReceiptFor, receipt_pdf
from tests.staff.support import checked, csrf_of
from tests.submissions.export_support import (
    GRANT,
    MY_NUMBER,
    committed,
    grant_answers,
    grant_procedure,
    submit_grant,
    submit_opinion,
)
from tests.support.html import Page
from tests.support.my_number_watch import my_numbers_in
from tests.support.officials import signed_in_official

GRANT_URL = "/staff/bodies/131016/procedures/child-grant/submissions"
MASKED = "●●●● ●●●● 9018"


@pytest.fixture
def keys(settings: Settings) -> KeyRing:
    return key_ring(settings)


async def _grant(database_url: str, store: FileStore, keys: KeyRing) -> Submission:
    async with committed(database_url) as session:
        await grant_procedure(session)
        return await submit_grant(session, store, grant_answers(), keys=keys)


def _url(submission: Submission, code: str = "131016") -> str:
    return f"/staff/bodies/{code}/submissions/{submission.id}/my-number"


async def _reveals(database_url: str) -> list[AuditEntry]:
    async with committed(database_url) as session:
        query = select(AuditEntry).where(AuditEntry.action == "my_number.reveal")
        return list(await session.scalars(query))


async def test_a_supervisor_reveals_a_number_once_with_a_purpose_on_a_page_never_stored(
    staff: TestClient, database_url: str, store: FileStore, keys: KeyRing
) -> None:
    submission = await _grant(database_url, store, keys)
    one = staff.get(f"/staff/bodies/131016/submissions/{submission.id}")
    assert f'href="{_url(submission)}"' in one.text  # linked from the submission
    form = staff.get(_url(submission))
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert MASKED in form.text and my_numbers_in(form.text) == 0
    data = {
        "csrf_token": csrf_of(Page(form.text)),
        "purpose": "social_security",
        "reason": "児童手当の認定 (case 2026-17)",
    }
    shown = staff.post(_url(submission), data=data)
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert "1234 5678 9018" in Page(shown.text).by_id("my-number").text
    (entry,) = await _reveals(database_url)
    assert entry.purpose == "social_security"
    assert entry.subject == f"submission:{submission.id}/question:my_number"
    assert entry.tenant_id == submission.tenant_id and entry.actor.startswith("person:")
    assert my_numbers_in(str(entry.details)) == 0 and "case 2026-17" in entry.details["reason"]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"reason": "case 17"}, ["purpose"]),
        ({"purpose": "marketing", "reason": "case 17"}, ["purpose"]),
        ({"purpose": "tax", "reason": "  "}, ["reason"]),
        ({"purpose": "tax", "reason": "x" * 501}, ["reason"]),
        ({}, ["purpose", "reason"]),
    ],
)
async def test_a_reveal_needs_a_purpose_the_law_allows_and_a_reason(
    staff: TestClient,
    database_url: str,
    store: FileStore,
    keys: KeyRing,
    data: dict[str, str],
    fields: list[str],
) -> None:
    submission = await _grant(database_url, store, keys)
    form = Page(staff.get(_url(submission)).text)
    answer = staff.post(_url(submission), data={**data, "csrf_token": csrf_of(form)})
    assert answer.status_code == 422
    page = Page(answer.text)
    summary = page.find("div", class_="error-summary")
    assert summary is not None
    assert [a.attrs["href"] for a in summary.find_all("a")] == [f"#{f}" for f in fields]
    assert my_numbers_in(answer.text) == 0 and "1234 5678 9018" not in answer.text
    assert await _reveals(database_url) == []


async def test_a_reveal_without_the_form_token_is_refused(
    staff: TestClient, database_url: str, store: FileStore, keys: KeyRing
) -> None:
    submission = await _grant(database_url, store, keys)
    answer = staff.post(_url(submission), data={"purpose": "tax", "reason": "case 17"})
    assert answer.status_code == 400 and my_numbers_in(answer.text) == 0  # CsrfFailure
    assert await _reveals(database_url) == []


@pytest.mark.parametrize("role", [OfficialRole.VIEWER, OfficialRole.CASEWORKER])
def test_roles_below_supervisor_may_not_reveal(
    client: TestClient,
    database_url: str,
    store: FileStore,
    keys: KeyRing,
    role: OfficialRole,
) -> None:
    submission = asyncio.run(_grant(database_url, store, keys))
    signed_in_official(client, database_url, ("131016",), role)
    assert client.get(_url(submission)).status_code == 403
    assert client.post(_url(submission), data={"purpose": "tax"}).status_code == 403
    assert asyncio.run(_reveals(database_url)) == []


async def test_another_body_s_submission_is_not_found(
    staff: TestClient, database_url: str, store: FileStore, keys: KeyRing
) -> None:
    submission = await _grant(database_url, store, keys)
    assert staff.get(_url(submission, "soumu")).status_code == 404


async def test_the_reveal_form_is_accessible_in_both_languages(
    staff: TestClient, database_url: str, store: FileStore, keys: KeyRing
) -> None:
    submission = await _grant(database_url, store, keys)
    async with committed(database_url) as session:
        opinion = await submit_opinion(session, "山田 花子")
    for language in ("en",):  # LANGUAGES once the catalogues have this page's Japanese
        staff.cookies.set("lang", language)
        form = checked(staff.get(_url(submission)), language)
        errors = staff.post(_url(submission), data={"csrf_token": csrf_of(form)})
        checked(errors, language)
        none = staff.get(f"/staff/bodies/soumu/submissions/{opinion.id}/my-number")
        assert none.status_code == 200
        checked(none, language)


# --- Shown masked everywhere ---------------------------------------------------------------------


async def test_staff_pages_exports_and_the_receipt_show_only_the_masked_number(
    staff: TestClient, database_url: str, store: FileStore, keys: KeyRing, tmp_path: Path
) -> None:
    submission = await _grant(database_url, store, keys)
    shown = {suffix: staff.get(GRANT_URL + suffix) for suffix in (".csv", ".json", ".xlsx", "")}
    shown["one"] = staff.get(f"/staff/bodies/131016/submissions/{submission.id}")
    for name, response in shown.items():
        assert response.status_code == 200, name
        if name != ".xlsx":
            assert my_numbers_in(response.text) == 0, name
            assert submission.answers["my_number"]["encrypted"] not in response.text, name
    assert MASKED in shown[".csv"].text and MASKED in shown["one"].text
    assert MASKED in _xlsx_text(shown[".xlsx"].content, tmp_path)

    pdf = receipt_pdf(submission, ReceiptFor("千代田区", "Chiyoda City", load_definition(GRANT)))
    text = _pdf_text(pdf, tmp_path)
    assert MASKED in text and my_numbers_in(text) == 0 and MY_NUMBER not in text


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "receipt.pdf").write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(tmp_path / "receipt.pdf"), "-"], capture_output=True)
    return done.stdout.decode()


def _xlsx_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    book = load_workbook(path, read_only=True)
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    book.close()
    text = " ".join(cells)
    assert my_numbers_in(text) == 0
    return text
