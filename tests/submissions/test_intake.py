"""Taking in submissions: the whole set checked at once, one submission per draft or key."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInputs
from madoguchi.core.reference_numbers import parse_reference
from madoguchi.procedures import service as procedures
from madoguchi.procedures.definition import Choice
from madoguchi.procedures.validation import check_answers, parse_given
from madoguchi.submissions import service
from madoguchi.submissions.models import Channel, SubmissionEvent

DAY = dt.date(2026, 12, 10)
OPINION = {
    "anonymous": "no",
    "name": "山田 花子",
    "topics": ["safety", "public"],
    "opinion_safety": "子どもが安心して使える仕組みを。",
    "opinion_public": "窓口の予約に使えると便利です。",
    "opinion_rights": "shown only when its topic is chosen: dropped",
}


async def _consultation(session: AsyncSession) -> procedures.Current:
    procedure = await procedures.get_procedure(session, "soumu", "metaverse-consultation")
    return await procedures.current(session, procedure)


async def test_answers_are_parsed_pruned_and_computed(session: AsyncSession) -> None:
    now = await _consultation(session)
    accepted = check_answers(now.definition, OPINION, DAY)
    assert accepted.answers["anonymous"] is False
    assert accepted.answers["topics"] == ["safety", "public"]
    assert "opinion_rights" not in accepted.answers


async def test_every_problem_on_the_path_is_reported_at_once(session: AsyncSession) -> None:
    now = await _consultation(session)
    given = {"anonymous": "perhaps", "topics": ["safety", "nonsense"]}
    with pytest.raises(InvalidInputs) as raised:
        check_answers(now.definition, given, DAY)
    fields = [problem.field for problem in raised.value.problems]
    # an answer that does not parse decides nothing: the questions it would show stay hidden
    assert fields == ["anonymous", "topics"]


async def test_a_draft_submitted_twice_makes_one_submission(session: AsyncSession) -> None:
    now = await _consultation(session)
    procedure = await procedures.get_procedure(session, "soumu", "metaverse-consultation")
    accepted = check_answers(now.definition, OPINION, DAY)
    intake = service.Intake(Channel.WEB, "ja", "applicant", draft_id=procedure.id)
    first = await service.submit(session, procedure, now.version, accepted, intake)
    again = await service.submit(session, procedure, now.version, accepted, intake)
    assert not first.replayed and again.replayed
    assert again.submission.id == first.submission.id
    assert parse_reference(first.submission.reference) == first.submission.reference
    events = await session.scalar(select(func.count()).select_from(SubmissionEvent))
    assert events == 1


def test_checkboxes_with_other_keep_their_list_inside_the_parts() -> None:
    question = Choice.model_validate(
        {
            "id": "channels",
            "type": "choice",
            "style": "checkboxes",
            "label": {"ja": "知った経路"},
            "options": [{"value": "web", "label": {"ja": "ウェブ"}}],
            "other": True,
        }
    )
    given = {"channels": {"value": ["web", "other"], "other": "回覧板"}}
    assert parse_given([question], given) == (
        {"channels": {"value": ["web", "other"], "other": "回覧板"}},
        [],
    )
