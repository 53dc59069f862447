"""A small procedure with a text answer and an attachment, published for any body, and
submissions to it through the real intake: the isolation tests put markers in them."""

from __future__ import annotations

import uuid

from madoguchi.core import tenancy
from madoguchi.core.files import FileStore
from madoguchi.procedures import service as procedures
from madoguchi.procedures.answers.uploads import accept_upload, file_answer
from madoguchi.procedures.validation import Accepted, check_answers
from madoguchi.submissions import service
from madoguchi.submissions.models import Channel
from tests.submissions.export_support import OPEN_DAY, committed
from tests.support.samples import PDF

NOTICE = """
format: madoguchi.procedure/1
slug: {slug}
owner: "{owner}"
title: {{ja: "{title}", en: "{title}"}}
summary: {{ja: 届出です。, en: A notice.}}
confirmation: {{ja: 受け付けました。, en: Received.}}
pages:
  - id: notice
    title: {{ja: 届出, en: Notice}}
    questions:
      - {{id: note, type: long_text, label: {{ja: 内容, en: Content}}}}
      - {{id: documents, type: file, required: false, max_files: 1,
         label: {{ja: 添付, en: Attachment}}}}
"""


async def publish_notice(
    owner: str, slug: str, title: str, database_url: str
) -> procedures.Procedure:
    async with committed(database_url) as session:
        await tenancy.enter_platform(session, "test set-up")
        source = NOTICE.format(slug=slug, owner=owner, title=title)
        version = await procedures.save_draft(session, owner, source)
        procedure = await procedures.get_procedure(session, owner, slug)
        await procedures.publish(session, procedure, version.version)
        return procedure


async def submit_notice(
    database_url: str, store: FileStore, owner: str, slug: str, note: str, file_name: str
) -> tuple[uuid.UUID, str]:
    async with committed(database_url) as session:
        await tenancy.enter_platform(session, "test set-up")
        procedure = await procedures.get_procedure(session, owner, slug)
        now = await procedures.current(session, procedure)
        question = next(q for p in now.definition.pages for q in p.questions if q.id == "documents")
        ref = accept_upload(question, file_name, PDF, store)["ref"]
        accepted = check_answers(now.definition, {"note": note}, OPEN_DAY)
        answers = {**accepted.answers, "documents": file_answer(question, [ref], store)}
        intake = service.Intake(Channel.WEB, "ja", "applicant")
        typed = Accepted(answers, accepted.computed)
        made = await service.submit(session, procedure, now.version, typed, intake)
        return made.submission.id, answers["documents"][0]["id"]
