"""Submissions made for the query, export and receipt tests, through the real intake."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.db import create_engine, create_session_factory, unit_of_work
from madoguchi.core.files import FileStore
from madoguchi.core.i18n import Language, translations
from madoguchi.core.my_number_keys import KeyRing
from madoguchi.procedures import service as procedures
from madoguchi.procedures.answers import parse_answer
from madoguchi.procedures.answers.identifiers import my_number_answer
from madoguchi.procedures.answers.uploads import accept_upload, file_answer
from madoguchi.procedures.validation import Accepted, check_answers
from madoguchi.submissions import service
from madoguchi.submissions.models import Channel, Submission
from tests.support.my_numbers import new_key_ring

CONSULTATION = ("soumu", "metaverse-consultation")
OPEN_DAY = dt.date(2026, 12, 10)  # the consultation is open on this day


def opinion(name: str, safety: str = "子どもが安心して使える仕組みを。") -> dict[str, Any]:
    return {"anonymous": "no", "name": name, "topics": ["safety"], "opinion_safety": safety}


async def submit_to(
    session: AsyncSession,
    owner: str,
    slug: str,
    given: dict[str, Any],
    *,
    submitted_at: dt.datetime | None = None,
    email: str | None = None,
    language: str = "ja",
) -> Submission:
    """A submission through ``service.submit``, then dated as the test needs."""
    procedure = await procedures.get_procedure(session, owner, slug)
    now = await procedures.current(session, procedure)
    accepted = check_answers(now.definition, given, OPEN_DAY)
    intake = service.Intake(Channel.WEB, language, "applicant", email=email)
    submitted = await service.submit(session, procedure, now.version, accepted, intake)
    if submitted_at is not None:  # stored in UTC, as submit does (SQLite keeps no offset)
        submitted.submission.submitted_at = submitted_at.astimezone(dt.UTC)
        await session.flush()
    return submitted.submission


async def submit_opinion(
    session: AsyncSession, name: str, *, submitted_at: dt.datetime | None = None, **kw: Any
) -> Submission:
    return await submit_to(session, *CONSULTATION, opinion(name), submitted_at=submitted_at, **kw)


@asynccontextmanager
async def committed(database_url: str) -> AsyncIterator[AsyncSession]:
    """A unit of work of its own, committed at the end, for tests that then use the app."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as unit:
            yield unit
    finally:
        await engine.dispose()


GRANT = """
format: madoguchi.procedure/1
slug: child-grant
owner: "131016"
title: {ja: 子育て応援給付金の申請, en: Child-raising grant application}
summary: {ja: 給付金を申請します。, en: Apply for the grant.}
confirmation: {ja: 申請を受け付けました。審査の結果をお知らせします。, en: Received.}
computed:
  - {id: children_count, label: {ja: 子どもの人数, en: Number of children}, count_of: children}
pages:
  - id: applicant
    title: {ja: 申請者, en: Applicant}
    questions:
      - {id: name, type: person_name, label: {ja: 氏名, en: Name}}
      - {id: address, type: address, label: {ja: 住所, en: Address}}
      - {id: phone, type: phone, label: {ja: 電話番号, en: Phone}}
      - {id: my_number, type: my_number, required: false, label: {ja: 個人番号, en: My Number}}
      - {id: account, type: bank_account, label: {ja: 振込先口座, en: Bank account}}
      - id: needs
        type: choice
        style: checkboxes
        other: true
        required: false
        label: {ja: 必要な支援, en: Support needed}
        options:
          - {value: meals, label: {ja: 食事の支援, en: Meals}}
          - {value: care, label: {ja: 一時保育, en: Childcare}}
      - {id: note, type: long_text, required: false, label: {ja: 備考, en: Notes}}
      - {id: agree, type: yes_no, label: {ja: 同意しますか, en: Do you agree?}}
      - {id: documents, type: file, required: false, max_files: 2,
         label: {ja: 添付書類, en: Documents}}
  - id: family
    title: {ja: 子ども, en: Children}
    questions:
      - id: children
        type: group
        max_items: 3
        label: {ja: 子ども, en: Child}
        questions:
          - {id: child_name, type: short_text, label: {ja: 子の氏名, en: Child's name}}
          - {id: born, type: date_of_birth, label: {ja: 生年月日, en: Date of birth}}
"""
MY_NUMBER = "123456789018"  # valid check digit, not a real person's


def grant_answers(family: str = "山田", note: str = "よろしくお願いします。") -> dict[str, Any]:
    return {
        "name": {"family": family, "given": "花子", "family_kana": "ヤマダ",
                 "given_kana": "ハナコ"},
        "address": {"postal_code": "100-0001", "street": "1-1", "building": "窓口ハイツ101"},
        "phone": "090-1234-5678",
        "account": {
            "bank": "0001", "branch": "001", "type": "普通", "number": "1234567",
            "holder": "ヤマダ ハナコ",
        },
        "needs": {"value": ["meals", "other"], "other": "送迎"},
        "note": note,
        "agree": "yes",
        "children": [
            {"child_name": "山田 一郎", "born": "令和2年4月1日"},
            {"child_name": "山田 次郎", "born": "2022-05-05"},
        ],
    }  # fmt: skip


async def grant_procedure(session: AsyncSession) -> procedures.Procedure:
    version = await procedures.save_draft(session, "131016", GRANT)
    procedure = await procedures.get_procedure(session, "131016", "child-grant")
    await procedures.publish(session, procedure, version.version)
    return procedure


async def submit_grant(
    session: AsyncSession,
    store: FileStore,
    given: dict[str, Any],
    *,
    language: str = "ja",
    files: tuple[tuple[str, bytes], ...] = (),
    keys: KeyRing | None = None,
    my_number: str = MY_NUMBER,
) -> Submission:
    """A grant application through the real parsers; the My Number and files are parsed with
    the test's secret and store (their parsers would otherwise read the process settings)."""
    procedure = await procedures.get_procedure(session, "131016", "child-grant")
    now = await procedures.current(session, procedure)
    questions = {q.id: q for page in now.definition.pages for q in page.questions}
    # check_answers turns a list inside a mapping into text, so "other" is parsed on its own
    given = dict(given)
    needs = given.pop("needs", None)
    accepted = check_answers(now.definition, given, OPEN_DAY)
    extra: dict[str, Any] = {
        "needs": parse_answer(questions["needs"], needs),
        "my_number": my_number_answer(questions["my_number"], my_number, keys or new_key_ring()),
    }
    if files:
        refs = [
            accept_upload(questions["documents"], name, data, store)["ref"] for name, data in files
        ]
        extra["documents"] = file_answer(questions["documents"], refs, store)
    typed = Accepted({**accepted.answers, **extra}, accepted.computed)
    intake = service.Intake(Channel.WEB, language, "applicant")
    return (await service.submit(session, procedure, now.version, typed, intake)).submission


def said(message: str, language: Language = "ja", **params: Any) -> str:
    """A message as the app says it in ``language`` (the catalogue's text once translated)."""
    text = translations(language).gettext(message)
    return text.format(**params) if params else text


def part_header(label: str, part: str, language: Language = "ja") -> str:
    return said("{label} ({part})", language, label=label, part=said(part, language))


def item_header(group: str, number: int, question: str, language: Language = "ja") -> str:
    return said(
        "{group} {number}: {question}", language, group=group, number=number, question=question
    )
