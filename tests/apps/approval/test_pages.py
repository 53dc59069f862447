"""The e-approval pages: a document drafted by a caseworker passes three approvers and is
sealed, each signature's status on the page; returns, refusals and isolation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.signatures.pdf_signing import Evidence
from madoguchi.signatures.verification import check_pdf
from tests.apps.approval.support import CHIYODA, SAPPORO, draft_pdf, evidence_of, pdfsig
from tests.staff.support import checked
from tests.support.html import Page
from tests.support.officials import make_official
from tests.support.people import make_person, signed_in

BASE = f"/staff/bodies/{CHIYODA}/approvals"
APPROVERS = (
    (OfficialRole.CASEWORKER, "係員 二郎"),
    (OfficialRole.SUPERVISOR, "課長 三郎"),
    (OfficialRole.ADMINISTRATOR, "部長 四郎"),
)
TEMPLATE = {
    "source": "template",
    "title": "公用車の購入について",
    "addressee": "千代田区長 様",
    "text": "公用車を一台購入したいので、決裁をお願いします。\n金額は三百万円です。",
    "step_1": "caseworker",
    "step_2": "supervisor",
    "step_3": "administrator",
}


@dataclass
class Office:
    """A browser, and the officials of 千代田区 it can be signed in as."""

    client: TestClient
    database_url: str
    drafter: uuid.UUID
    approvers: list[uuid.UUID]

    def as_(self, person: uuid.UUID) -> str:
        """Sign the browser in as ``person``; returns their form token."""
        return signed_in(self.client, self.database_url, person)

    def draft(self, **changes: str) -> str:
        """A document drafted from the template by the drafter; returns its page's address."""
        csrf = self.as_(self.drafter)
        data = {**TEMPLATE, **changes, "csrf_token": csrf}
        response = self.client.post(f"{BASE}/new", data=data, follow_redirects=False)
        assert response.status_code == 303, response.text
        return response.headers["location"].split("?")[0]

    def decide(self, person: uuid.UUID, url: str, action: str, step: int, **fields: str) -> int:
        csrf = self.as_(person)
        data = {"csrf_token": csrf, "round": fields.pop("round", "1"), "step": str(step), **fields}
        response = self.client.post(f"{url}/{action}", data=data, follow_redirects=False)
        return response.status_code


@pytest.fixture
def office(client: TestClient, database_url: str) -> Office:
    drafter = make_official(database_url, CHIYODA, OfficialRole.CASEWORKER, name="起案 一郎")
    approvers = [make_official(database_url, CHIYODA, role, name=name) for role, name in APPROVERS]
    return Office(client, database_url, drafter, approvers)


def test_a_document_passes_three_approvers_and_ends_sealed_and_valid(
    office: Office, settings: Settings, tmp_path: Path
) -> None:
    url = office.draft()
    for step, approver in enumerate(office.approvers):
        assert office.decide(approver, url, "approve", step) == 303
    office.client.cookies.set("lang", "en")
    page = checked(office.client.get(url), "en")
    assert page.by_id("status").text == "Approved and sealed"
    rows = [row for row in page.by_id("signatures").find_all("tr") if "data-field" in row.attrs]
    assert len(rows) == 4
    for row in rows:
        assert row.find("td", class_="signature-status").text == "Valid", row.text
    pdf = office.client.get(f"{url}/document.pdf").content
    verdict = check_pdf_now(pdf, settings)
    assert verdict.valid, verdict.all_problems
    signers = [check.signer for check in verdict.signatures]
    assert sorted(signers) == sorted(["係員 二郎", "課長 三郎", "部長 四郎", "千代田区"])
    assert pdfsig(pdf, tmp_path).count("Signature is Valid.") == 4


def check_pdf_now(pdf: bytes, settings: Settings):  # type: ignore[no-untyped-def]
    import asyncio

    proof: Evidence = evidence_of(settings)
    return asyncio.run(check_pdf(pdf, proof))


def test_the_page_reads_in_english_too(office: Office) -> None:
    url = office.draft()
    office.client.cookies.set("lang", "en")
    page = checked(office.client.get(url), "en")
    assert page.by_id("status").text == "In review"
    checked(office.client.get(BASE), "en")
    checked(office.client.get(f"{BASE}/new"), "en")
    # Japanese: the same pages, once the lead has added the translations (locale/ is theirs)
    office.client.cookies.set("lang", "ja")
    assert office.client.get(url).status_code == 200


def test_a_return_needs_a_comment_and_a_resubmission_starts_the_route_again(
    office: Office, settings: Settings
) -> None:
    url = office.draft()
    first, second, _third = office.approvers
    assert office.decide(first, url, "approve", 0) == 303
    assert office.decide(second, url, "reject", 1, comment="") == 422
    assert office.decide(second, url, "reject", 1, comment="金額の根拠を添えてください。") == 303
    page = Page(office.client.get(url).text)
    assert "金額の根拠を添えてください。" in page.by_id("history").text
    csrf = office.as_(office.drafter)
    revised = draft_pdf("公用車の購入について（改訂）")
    response = office.client.post(
        f"{url}/resubmit",
        data={"csrf_token": csrf},
        files={"file": ("revised.pdf", revised, "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    for step, approver in enumerate(office.approvers):
        assert office.decide(approver, url, "approve", step, round="2") == 303
    pdf = office.client.get(f"{url}/document.pdf").content
    verdict = check_pdf_now(pdf, settings)
    assert verdict.valid and len(verdict.signatures) == 4, verdict.all_problems


def test_who_may_not_decide_is_refused(office: Office, database_url: str) -> None:
    url = office.draft()
    first, second, _third = office.approvers
    assert office.decide(office.drafter, url, "approve", 0) == 403  # their own document
    viewer = make_official(database_url, CHIYODA, OfficialRole.VIEWER, name="閲覧 五郎")
    assert office.decide(viewer, url, "approve", 0) == 403
    assert office.decide(first, url, "approve", 0) == 303
    assert office.decide(first, url, "approve", 1) == 403  # a caseworker for a supervisor
    assert office.decide(second, url, "approve", 0) == 409  # that step is decided
    csrf = office.as_(second)
    no_token = office.client.post(f"{url}/approve", data={"round": "1", "step": "1"})
    assert no_token.status_code == 400
    assert csrf


def test_another_body_can_neither_see_nor_act(office: Office, database_url: str) -> None:
    url = office.draft()
    document_id = url.rsplit("/", 1)[1]
    outsider = make_official(database_url, SAPPORO, OfficialRole.ADMINISTRATOR, name="札幌 六郎")
    csrf = office.as_(outsider)
    assert office.client.get(url).status_code == 403
    assert office.client.get(f"{url}/document.pdf").status_code == 403
    own_path = f"/staff/bodies/{SAPPORO}/approvals/{document_id}"
    assert office.client.get(own_path).status_code == 404
    assert office.client.get(f"{own_path}/document.pdf").status_code == 404
    data = {"csrf_token": csrf, "round": "1", "step": "0"}
    assert office.client.post(f"{own_path}/approve", data=data).status_code == 404
    assert document_id not in office.client.get(f"/staff/bodies/{SAPPORO}/approvals").text


def test_a_document_changed_on_disk_is_not_signed_over(office: Office, settings: Settings) -> None:
    url = office.draft()
    first, second, _third = office.approvers
    assert office.decide(first, url, "approve", 0) == 303
    sha = office.client.get(f"{url}/document.pdf").content
    store = FileStore.from_settings(settings)
    import hashlib

    path = store.root / hashlib.sha256(sha).hexdigest()[:2] / hashlib.sha256(sha).hexdigest()
    altered = bytearray(path.read_bytes())
    altered[200] ^= 0x01
    path.write_bytes(bytes(altered))
    assert office.decide(second, url, "approve", 1) == 409
    page = Page(office.client.get(url).text)
    assert page.by_id("file-problem").text


def test_an_upload_must_be_an_unsigned_pdf(office: Office) -> None:
    csrf = office.as_(office.drafter)
    data = {**TEMPLATE, "source": "upload", "csrf_token": csrf}
    not_pdf = office.client.post(
        f"{BASE}/new", data=data, files={"file": ("a.pdf", b"hello", "application/pdf")}
    )
    assert not_pdf.status_code == 422
    assert "PDF" in Page(not_pdf.text).by_id("file-error").text
    good = office.client.post(
        f"{BASE}/new",
        data=data,
        files={"file": ("a.pdf", draft_pdf(), "application/pdf")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert make_person  # people without a role are covered by tests/staff/test_access.py


def test_a_signed_upload_or_no_route_is_refused_and_what_was_typed_is_kept(
    office: Office, settings: Settings
) -> None:
    sealed_url = office.draft()
    for step, approver in enumerate(office.approvers):
        assert office.decide(approver, sealed_url, "approve", step) == 303
    signed = office.client.get(f"{sealed_url}/document.pdf").content
    csrf = office.as_(office.drafter)
    data = {**TEMPLATE, "source": "upload", "title": "再起案の件", "csrf_token": csrf}
    refused = office.client.post(
        f"{BASE}/new", data=data, files={"file": ("signed.pdf", signed, "application/pdf")}
    )
    assert refused.status_code == 422
    page = Page(refused.text)
    assert "すでに署名されています" in page.by_id("file-error").text
    assert page.by_id("title").attrs["value"] == "再起案の件"
    no_route = {**TEMPLATE, "csrf_token": csrf, "step_1": "", "step_2": "", "step_3": ""}
    answer = office.client.post(f"{BASE}/new", data=no_route)
    assert answer.status_code == 422
    assert "決裁者" in Page(answer.text).find(class_="error-summary").text
    assert Page(answer.text).by_id("text").text.startswith("公用車を一台購入したい")
