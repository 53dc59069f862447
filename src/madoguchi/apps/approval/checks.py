"""Checks of what the e-approval forms send: the route, an uploaded PDF, a comment. Each
answers InvalidInput naming the field, so the form comes back with the problem beside it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput
from madoguchi.core.files import sniff_media_type
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.signatures import service as signatures

APPROVER_ROLES = (OfficialRole.CASEWORKER, OfficialRole.SUPERVISOR, OfficialRole.ADMINISTRATOR)
MAX_STEPS = 5
MAX_PDF_BYTES = signatures.MAX_PDF_BYTES
MAX_PDF_MB = MAX_PDF_BYTES >> 20
MAX_COMMENT = 2000


def check_route(roles: Sequence[str]) -> list[OfficialRole]:
    """The approvers' roles in order (empty choices skipped): 1 to 5 of the approver roles."""
    chosen = [role.strip() for role in roles if role.strip()]
    if not chosen:
        raise InvalidInput(N_("Choose the role of at least one approver."), field="step_1")
    if len(chosen) > MAX_STEPS:
        raise InvalidInput(N_("Choose at most {most} approvers."), field="step_1", most=MAX_STEPS)
    route = []
    for number, role in enumerate(chosen, start=1):
        if role not in {r.value for r in APPROVER_ROLES}:
            raise InvalidInput(N_("Choose one of the roles."), field=f"step_{number}")
        route.append(OfficialRole(role))
    return route


async def check_uploaded_pdf(db: AsyncSession, settings: Settings, data: bytes, name: str) -> bytes:
    """An upload that can be approved: a readable PDF of at most 20 MB with no signature yet."""
    if not data:
        raise InvalidInput(N_("The file {name} is empty."), field="file", name=name)
    if len(data) > signatures.MAX_PDF_BYTES:
        raise InvalidInput(N_("The file is larger than {most} MB."), field="file", most=MAX_PDF_MB)
    if sniff_media_type(data) != "application/pdf":
        raise InvalidInput(N_("The file {name} is not a PDF."), field="file", name=name)
    verdict = await signatures.check_document(db, settings, data)
    if verdict.signatures:
        raise InvalidInput(
            N_("The file {name} is already signed: upload the document before any signature."),
            field="file",
            name=name,
        )
    if [problem.message for problem in verdict.problems] != [signatures.UNSIGNED]:
        raise InvalidInput(
            N_("The file {name} could not be read as a PDF: it is damaged or incomplete."),
            field="file",
            name=name,
        )
    return data


def check_comment(comment: str) -> str:
    text = comment.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(N_("Say why the document is returned."), field="comment")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            N_("Enter at most {most} characters."), field="comment", most=MAX_COMMENT
        )
    return text
