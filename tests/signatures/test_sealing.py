"""Sealing a document as a public body: PAdES B-LT with the body's e-seal, checked by pdfsig."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.signatures.pki.seals import Body
from madoguchi.signatures.sealing import evidence, seal_document
from madoguchi.tenants import service as tenants


def simple_pdf(text: str = "Receipt") -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


async def chiyoda(session: AsyncSession) -> Body:
    tenant = await tenants.get_tenant(session, "131016")
    await enter_tenant(session, tenant.id)
    return Body(tenant.id, tenant.code, tenant.name)


async def test_a_sealed_pdf_is_kept_recorded_and_valid_for_pdfsig(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    body = await chiyoda(session)
    sealed = await seal_document(
        session, settings, body, simple_pdf(), kind="receipt", title="受付票"
    )
    assert FileStore.from_settings(settings).read(sealed.document.file_sha256) == sealed.pdf
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed.pdf)
    report = _run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report, report
    assert "千代田区" in report
    assert "Signature Type: ETSI.CAdES.detached" in report


async def test_the_sealed_pdf_verifies_and_one_changed_byte_is_reported(
    session: AsyncSession, settings: Settings
) -> None:
    from madoguchi.signatures.sealing import evidence
    from madoguchi.signatures.verification import NOT_INTACT, check_pdf

    body = await chiyoda(session)
    sealed = await seal_document(session, settings, body, simple_pdf(), kind="receipt", title="t")
    proof = await evidence(session, settings)
    verdict = await check_pdf(sealed.pdf, proof)
    assert verdict.valid, verdict.all_problems
    (check,) = verdict.signatures
    assert check.signer == "千代田区"
    assert check.timestamped
    altered = bytearray(sealed.pdf)
    altered[sealed.pdf.index(b"(anonymous)") + 1] ^= 0x01  # the Author, inside the signed part
    verdict = await check_pdf(bytes(altered), proof)
    assert not verdict.valid
    assert [problem.message for problem in verdict.all_problems] == [NOT_INTACT]


def _run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    """An independent tool, run to its end (the tests wait for it on purpose)."""
    return subprocess.run(args, **options)  # type: ignore[call-overload,no-any-return]


async def test_a_revoked_seal_is_never_used_again_even_when_remembered(
    database_url: str, settings: Settings
) -> None:
    from madoguchi.signatures.service import Reason, revoke_certificate
    from madoguchi.signatures.verification import check_pdf
    from tests.support.databases import in_database

    async def seal(session: AsyncSession) -> str:
        body = await chiyoda(session)
        sealed = await seal_document(session, settings, body, simple_pdf(), kind="t", title="t")
        verdict = await check_pdf(sealed.pdf, await evidence(session, settings))
        return verdict.signatures[0].serial

    first = in_database(database_url, seal)
    assert in_database(database_url, seal) == first  # the same seal, remembered

    async def revoke(session: AsyncSession) -> None:
        await revoke_certificate(session, first, Reason.KEY_COMPROMISE)

    in_database(database_url, revoke)
    assert in_database(database_url, seal) != first


async def test_a_body_seals_with_keys_that_never_leave_the_hsm(
    session: AsyncSession, database_url: str, softhsm_token: Any, tmp_path: Path
) -> None:
    """The whole PKI made on a PKCS#11 token (SoftHSM2 here): the root, the authorities, the
    TSA and the body's e-seal; the sealed receipt verifies, by us and by pdfsig."""
    from madoguchi.signatures.verification import check_pdf

    settings = softhsm_token.settings(tmp_path / "data", database_url=database_url)
    body = await chiyoda(session)
    sealed = await seal_document(session, settings, body, simple_pdf(), kind="t", title="t")
    verdict = await check_pdf(sealed.pdf, await evidence(session, settings))
    assert verdict.valid, verdict.all_problems
    handles = (await session.execute(text("SELECT key_handle FROM pki_authorities"))).scalars()
    assert all(handle.startswith("pkcs11:") for handle in handles)
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed.pdf)
    report = _run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report, report
