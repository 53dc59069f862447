"""What the e-approval tests share: officials of a body as the service sees them, a draft PDF,
and pdfsig's report."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.apps.approval.template import check_draft, document_pdf
from madoguchi.core.settings import Settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.staff_access import StaffMember
from madoguchi.signatures.pdf_signing import Evidence
from madoguchi.signatures.sealing import evidence
from madoguchi.tenants import service as tenants
from tests.support.databases import in_database

CHIYODA, SAPPORO = "131016", "011002"
ROUTE = [OfficialRole.CASEWORKER, OfficialRole.SUPERVISOR, OfficialRole.ADMINISTRATOR]


async def member(session: AsyncSession, code: str, role: OfficialRole, name: str) -> StaffMember:
    """An official of ``code`` as ``require_official`` would hand them to a route."""
    tenant = await tenants.get_tenant(session, code)
    await enter_tenant(session, tenant.id)
    return StaffMember(uuid.uuid4(), name, tenant, role, platform_administrator=False)


def draft_pdf(title: str = "公用車の購入について") -> bytes:
    draft = check_draft(title, "千代田区長 様", "公用車を一台購入したいので、決裁をお願いします。")
    return document_pdf(draft, "千代田区", dt.date(2026, 11, 29))


def pdfsig(pdf: bytes, folder: Path) -> str:
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return run.stdout


def evidence_of(settings: Settings) -> Evidence:
    """The platform's evidence, read in a unit of work of its own."""

    async def read(session: AsyncSession) -> Evidence:
        return await evidence(session, settings)

    return in_database(settings.database_url, read)
