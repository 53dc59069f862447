"""The applicant's card signature on the staff submission page: checked again each time the page
is shown, so a change to the stored answers shows as not valid, and a card revoked after it
signed shows as valid when signed, revoked since."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.submissions import service
from tests.submissions.examples import procedure_id, subsidy, upload_pdf
from tests.submissions.test_api_signature import card_signature, payload
from tests.support.cards import HANAKO, in_database, issue, revoke
from tests.support.html import Page, get_page
from tests.support.officials import signed_in_official

SUBSIDY_OWNER = "meti"


@pytest.fixture
def signed(client: TestClient, database_url: str, settings: Settings) -> tuple[str, str]:
    """The subsidy, submitted through the API signed with Hanako's card: the submission's id
    and the card's number."""
    card = issue(database_url, settings, HANAKO).card_number
    procedure = procedure_id(client, SUBSIDY_OWNER, "small-business-subsidy")
    answers = subsidy(upload_pdf(client, procedure, "quotes").json()["ref"])
    signature = card_signature(
        database_url, settings, card, payload(client, procedure, answers).content
    )
    response = client.post(
        f"/api/v1/procedures/{procedure}/submissions",
        json={"answers": answers, "signature": signature},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], card


@pytest.fixture
def official(client: TestClient, database_url: str) -> TestClient:
    signed_in_official(client, database_url, SUBSIDY_OWNER, OfficialRole.CASEWORKER)
    return client


def signature_line(client: TestClient, submission_id: str) -> str:
    url = f"/staff/bodies/{SUBSIDY_OWNER}/submissions/{submission_id}"
    response, page = get_page(client, url, "en")
    assert response.status_code == 200, response.text
    line = Page(response.text).find(class_="resident-signature")
    assert line is not None, page.main.text
    return " ".join(line.text.split())


def test_the_page_shows_the_signature_checked_just_now(
    signed: tuple[str, str], official: TestClient
) -> None:
    line = signature_line(official, signed[0])
    assert "Valid (checked just now)" in line
    assert "signed with the My Number card by 山田" in line and "花子" in line


def test_answers_changed_after_signing_show_the_signature_as_not_valid(
    signed: tuple[str, str], official: TestClient, database_url: str
) -> None:
    async def change(session: AsyncSession) -> None:
        kept = await service.get_submission(session, uuid.UUID(signed[0]))
        kept.answers = {**kept.answers, "employees": 19}  # as if edited in the database

    in_database(database_url, change)
    line = signature_line(official, signed[0])
    assert "Not valid" in line and "changed" in line
    assert "Valid (checked just now)" not in line


def test_a_card_revoked_after_signing_shows_valid_when_signed_revoked_since(
    signed: tuple[str, str], official: TestClient, database_url: str
) -> None:
    submission_id, card = signed
    revoke(database_url, card)
    line = signature_line(official, submission_id).lower()
    assert "valid when signed" in line and "revoked since" in line
    assert "valid (checked just now)" not in line
