"""One submission as staff read it: every answer (My Number only masked), the files its answers
name, and its audit record; and the download of one of those files, never any other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session, settings_of
from madoguchi.core.errors import NotFound
from madoguchi.core.files import FileStore, is_file_id
from madoguchi.core.templating import render
from madoguchi.identity import audit
from madoguchi.identity.staff_access import StaffMember, StaffViewer
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Definition, FileUpload, Group
from madoguchi.submissions import service
from madoguchi.submissions.display import answer_rows, file_size_text, text_language
from madoguchi.submissions.exports import attachment
from madoguchi.submissions.models import Submission, SubmissionEvent
from madoguchi.submissions.signing import signature_shown
from madoguchi.submissions.staff_pages.shared import channel_label, when
from madoguchi.tenants import service as tenants

router = APIRouter(prefix="/staff/bodies/{code}/submissions", include_in_schema=False)


@dataclass(frozen=True)
class AttachedFile:
    question: str  # the label of the question it answers
    id: str
    name: str
    size: str
    media_type: str

    @property
    def question_language(self) -> str | None:
        return text_language(self.question)


@router.get("/{submission_id}", response_class=HTMLResponse)
async def submission_page(
    request: Request, code: str, submission_id: str, session: Session, staff: StaffViewer
) -> HTMLResponse:
    tenant, submission = await _submission(session, code, submission_id)
    await _record_read(session, staff, submission, "submission.read")
    definition = await _definition_of(session, submission)
    procedure = await procedures.get_procedure_by_id(session, submission.procedure_id)
    signature = await signature_shown(session, settings_of(request), submission, tenant.code)
    revoked = signature.revoked_since if signature else None
    html = render(
        "staff/submission.html",
        request=request,
        tenant=tenant,
        slug=procedure.slug,
        title=definition.title,
        submission=submission,
        submitted=when(submission.submitted_at),
        channel=channel_label(submission.channel),
        signature=signature,
        signed_at=when(submission.signed_at) if submission.signed_at else None,
        revoked_since=when(revoked) if revoked else None,
        rows=answer_rows(definition, submission.answers, submission.computed),
        files=list(attached_files(definition, submission.answers)),
        events=[
            (event, when(event.at), _details(event))
            for event in await service.list_events(session, submission)
        ],
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/{submission_id}/files/{sha256}")
async def submission_file(
    request: Request,
    code: str,
    submission_id: str,
    sha256: str,
    session: Session,
    staff: StaffViewer,
) -> Response:
    """A file this submission's answers name, with the media type its content shows."""
    _tenant, submission = await _submission(session, code, submission_id)
    definition = await _definition_of(session, submission)
    named = {f.id: f for f in attached_files(definition, submission.answers)}
    if not is_file_id(sha256) or sha256 not in named:
        raise NotFound("This submission has no such attachment.", field="file")
    await _record_read(session, staff, submission, "attachment.read", file=sha256)
    store = FileStore.from_settings(request.app.state.settings)
    data = store.read(sha256)  # checked against its checksum
    name = named[sha256].name
    fallback = "".join(ch for ch in name if ch.isascii() and ch.isprintable() and ch not in '"\\')
    return Response(
        data,
        media_type=store.info(sha256).media_type,
        headers={
            "Content-Disposition": attachment(name, fallback.strip() or sha256[:16]),
            "Cache-Control": "no-store",
        },
    )


def attached_files(definition: Definition, answers: Mapping[str, Any]) -> Iterator[AttachedFile]:
    """The files the answers name (a repeatable group's too), each with its question's label."""
    for page in definition.pages:
        for question in page.questions:
            if isinstance(question, FileUpload):
                yield from _files_of(question, answers.get(question.id))
            elif isinstance(question, Group):
                for item in _items(answers.get(question.id)):
                    for inner in question.questions:
                        if isinstance(inner, FileUpload):
                            yield from _files_of(inner, item.get(inner.id))


def _files_of(question: FileUpload, value: Any) -> Iterator[AttachedFile]:
    for item in value if isinstance(value, list) else []:
        if isinstance(item, Mapping) and is_file_id(str(item.get("id", ""))):
            yield AttachedFile(
                str(question.label),
                str(item["id"]),
                str(item.get("name") or item["id"][:12]),
                file_size_text(int(item.get("size") or 0)),
                str(item.get("media_type") or ""),
            )


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [i for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []


async def _submission(
    session: AsyncSession, code: str, submission_id: str
) -> tuple[tenants.Tenant, Submission]:
    """The body's own submission; another body's is not found, as one that does not exist."""
    tenant = await tenants.get_tenant(session, code)
    try:
        wanted = uuid.UUID(submission_id)
    except ValueError:
        raise NotFound("There is no submission with this id.", field="submission") from None
    return tenant, await service.get_submission(session, wanted, tenant_id=tenant.id)


async def _definition_of(session: AsyncSession, submission: Submission) -> Definition:
    """The version the applicant answered, not the current one."""
    return await procedures.definition_of(
        session, submission.version_tenant_id, submission.version_procedure_id, submission.version
    )


def _details(event: SubmissionEvent) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(event.details.items()))


async def _record_read(
    session: AsyncSession, staff: StaffMember, submission: Submission, action: str, **details: str
) -> None:
    """A read of personal data goes into the tenant's audit chain, in this request's commit."""
    await audit.append(
        session,
        actor=staff.actor,
        action=action,
        tenant_id=submission.tenant_id,
        purpose="staff review",
        subject=f"submission:{submission.id}",
        details=details,
    )
