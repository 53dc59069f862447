"""The e-approval rules, through the service: three approvers and the seal, returns, refusals."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.apps.approval import service
from madoguchi.apps.approval.checks import check_route
from madoguchi.apps.approval.models import Status
from madoguchi.core.errors import InvalidInput
from madoguchi.core.reference_numbers import new_reference
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.staff_access import NotPermitted
from madoguchi.signatures import service as signatures
from tests.apps.approval.support import CHIYODA, ROUTE, draft_pdf, member, pdfsig


async def test_a_document_passes_three_approvers_and_is_sealed(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    drafter = await member(session, CHIYODA, OfficialRole.CASEWORKER, "起案 一郎")
    approvers = [
        await member(session, CHIYODA, role, name)
        for role, name in zip(ROUTE, ("係員 二郎", "課長 三郎", "部長 四郎"), strict=True)
    ]
    document = await service.do_draft(
        session, settings, drafter, "公用車の購入", draft_pdf(), "draft.pdf", ROUTE
    )
    for position, approver in enumerate(approvers):
        await service.do_approve(session, settings, approver, document, 1, position)
    assert document.status == Status.APPROVED
    assert document.sealed_reference
    pdf = service.read_pdf(settings, document)
    verdict = await signatures.check_document(session, settings, pdf)
    assert verdict.valid, verdict.all_problems
    assert [check.signer for check in verdict.signatures] == [
        "係員 二郎",
        "課長 三郎",
        "部長 四郎",
        "千代田区",
    ]
    report = pdfsig(pdf, tmp_path)
    assert report.count("Signature is Valid.") == 4, report


async def test_the_first_approval_certifies_and_the_seal_fills_its_reserved_field(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    document = await _approved_by_three(session, settings)
    pdf = service.read_pdf(settings, document)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    assert "/DocMDP" in reader.root["/Perms"]
    verdict = await signatures.check_document(session, settings, pdf)
    assert verdict.valid, verdict.all_problems
    assert verdict.signatures[-1].field_name == f"Seal-{document.sealed_reference}"
    assert pdfsig(pdf, tmp_path).count("Signature is Valid.") == 4


async def test_without_the_reserved_field_a_certified_document_could_not_be_sealed(
    session: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the field is reserved: certifying, then sealing in a new visible field, makes the
    approvals "changed after signing" (so the test above can fail)."""
    monkeypatch.setattr(signatures, "reserve_seal", lambda pdf: (new_reference(), pdf))
    document = await _approved_by_three(session, settings)
    verdict = await signatures.check_document(
        session, settings, service.read_pdf(settings, document)
    )
    assert not verdict.valid


async def test_refusals(session: AsyncSession, settings: Settings) -> None:
    drafter = await member(session, CHIYODA, OfficialRole.SUPERVISOR, "起案 一郎")
    caseworker = await member(session, CHIYODA, OfficialRole.CASEWORKER, "係員 二郎")
    document = await service.do_draft(
        session, settings, drafter, "t", draft_pdf(), "d.pdf", [OfficialRole.SUPERVISOR]
    )
    with pytest.raises(NotPermitted):
        await service.do_approve(session, settings, drafter, document, 1, 0)
    with pytest.raises(NotPermitted):
        await service.do_approve(session, settings, caseworker, document, 1, 0)
    with pytest.raises(service.StepDecided):
        await service.do_approve(session, settings, caseworker, document, 1, 1)
    with pytest.raises(service.StepDecided):  # only a returned document is sent again
        await service.do_resubmit(session, settings, drafter, document, None, "d.pdf")


def test_a_route_is_one_to_five_approver_roles() -> None:
    assert check_route(["caseworker", "", "administrator"]) == [
        OfficialRole.CASEWORKER,
        OfficialRole.ADMINISTRATOR,
    ]
    for bad in ([], ["", ""], ["viewer"], ["caseworker"] * 6, ["root"]):
        with pytest.raises(InvalidInput):
            check_route(bad)


async def _approved_by_three(session: AsyncSession, settings: Settings) -> Any:
    drafter = await member(session, CHIYODA, OfficialRole.CASEWORKER, "起案 一郎")
    document = await service.do_draft(
        session, settings, drafter, "公用車の購入", draft_pdf(), "draft.pdf", ROUTE
    )
    for position, (role, name) in enumerate(
        zip(ROUTE, ("係員 二郎", "課長 三郎", "部長 四郎"), strict=True)
    ):
        approver = await member(session, CHIYODA, role, name)
        await service.do_approve(session, settings, approver, document, 1, position)
    assert document.status == Status.APPROVED
    return document
