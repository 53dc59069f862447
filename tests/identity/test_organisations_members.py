"""Members of an organisation: invitations by email, removal, leaving and handing over; and a
session that acts for an organisation it is no longer a member of."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.settings import Settings
from madoguchi.identity.models import Assurance, Membership, Person, SignInMethod
from tests.identity.organisation_support import (
    acting_chosen,
    audit_of,
    form_token,
    invitation_in,
    memberships,
    organisation_ids,
    page_of,
    post,
    read,
    register,
    session_acting_for,
    sign_in_as,
)
from tests.support.html import accessibility_problems, get_page
from tests.support.mail import (  # noqa: F401  mailbox_fixture is the mailbox fixture
    Mailbox,
    another_browser,
    mailbox_fixture,
    text_of,
    with_smtp,
)
from tests.support.people import make_person

DOCTOR = "doctor@clinic.example.jp"


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return with_smtp(settings, mailbox)


@pytest.fixture
def clinic(client: TestClient, database_url: str) -> tuple[uuid.UUID, str]:
    """A clinic registered by its director, who is signed in in ``client``; its page."""
    director = make_person(database_url, "院長 一郎")
    sign_in_as(client, database_url, director)
    response = register(
        client, kind="medical-institution", name="さくら内科", number="", code="0110113719"
    )
    assert response.status_code == 303, response.text
    return director, response.headers["location"]


def invite(client: TestClient, page: str, email: str = DOCTOR, language: str = "ja") -> int:
    client.cookies.set("lang", language)
    return post(client, f"{page}/invite", {"email": email}, page).status_code


def accept(client: TestClient, link: str) -> tuple[int, str]:
    _, page = get_page(client, link)
    token = page.find("input", name="csrf_token").attrs["value"]
    pressed = client.post(link, data={"csrf_token": token}, follow_redirects=False)
    return pressed.status_code, pressed.headers.get("location", "")


def person_by_email(database_url: str, email: str) -> uuid.UUID:
    async def query(db: AsyncSession) -> uuid.UUID:
        return (await db.scalars(select(Person.id).where(Person.email == email))).one()

    return read(database_url, query)


def doctor_joins(client: TestClient, mailbox: Mailbox, database_url: str, page: str) -> uuid.UUID:
    """The director invites the doctor, who accepts in another browser; the doctor's id."""
    assert invite(client, page) == 200
    link = invitation_in(text_of(mailbox.only_message_to(DOCTOR)))
    with another_browser(client) as phone:
        assert accept(phone, link) == (303, page)
    return person_by_email(database_url, DOCTOR)


@pytest.mark.parametrize("language", ["en"])
def test_an_invited_doctor_accepts_and_is_signed_in_by_the_link(
    client: TestClient,
    mailbox: Mailbox,
    database_url: str,
    clinic: tuple[uuid.UUID, str],
    language: str,
) -> None:
    director, page = clinic
    assert invite(client, page, language=language) == 200
    message = mailbox.only_message_to(DOCTOR)
    assert "さくら内科" in text_of(message)
    link = invitation_in(text_of(message))
    with another_browser(client) as phone:
        response, invitation = get_page(phone, link, language)
        assert response.status_code == 200
        assert accessibility_problems(invitation, language) == []
        assert "さくら内科" in invitation.main.text
        assert accept(phone, link) == (303, page)
        _, members_page = get_page(phone, page, language)
        assert accessibility_problems(members_page, language) == []
        assert not members_page.find_all("form", action=f"{page}/invite")  # a member, not its rep
    doctor = person_by_email(database_url, DOCTOR)
    [(organisation, role)] = memberships(database_url, doctor)
    assert role == "member"
    [invited] = audit_of(database_url, "organisation.member_invited")
    assert (invited.actor, invited.details["email"]) == (f"person:{director}", DOCTOR)
    [added] = audit_of(database_url, "organisation.member_added")
    assert added.details == {
        "organisation": str(organisation),
        "member": str(doctor),
        "old_role": None,
        "new_role": "member",
        "email": DOCTOR,
    }


def test_a_person_signed_in_with_the_card_accepts_as_themselves(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    assert invite(client, page) == 200
    link = invitation_in(text_of(mailbox.only_message_to(DOCTOR)))
    with another_browser(client) as phone:
        doctor = make_person(database_url, "医師 花子")  # no email address on the account
        sign_in_as(phone, database_url, doctor)
        assert accept(phone, link) == (303, page)
    assert [role for _, role in memberships(database_url, doctor)] == ["member"]


def test_an_invitation_works_once(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    doctor_joins(client, mailbox, database_url, page)
    link = invitation_in(text_of(mailbox.only_message_to(DOCTOR)))
    with another_browser(client) as phone:
        response, failed = get_page(phone, link, "en")
        assert response.status_code == 422
        assert accessibility_problems(failed, "en") == []
        assert "invite you again" in failed.main.text


def test_a_sign_in_link_one_asked_for_is_not_an_invitation(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    """Someone asks for a sign-in link leading to the clinic's page, dressed as an invitation."""
    _, page = clinic
    with another_browser(client) as intruder:
        _, sign_in = get_page(intruder, "/sign-in")
        token = sign_in.find("input", name="csrf_token").attrs["value"]
        target = f"{page}?invitation=forged"
        sent = intruder.post(
            "/sign-in", data={"email": DOCTOR, "next": target, "csrf_token": token}
        )
        assert sent.status_code == 200
        text = text_of(mailbox.only_message_to(DOCTOR))
        link = "/account/invitations/" + text.split("/sign-in/")[1].split()[0]
        assert get_page(intruder, link)[0].status_code == 422
        pressed = intruder.post(link, data={"csrf_token": token}, follow_redirects=False)
        assert pressed.status_code == 422
    assert audit_of(database_url, "organisation.member_added") == []


def test_a_wrong_address_comes_back_with_the_error_and_what_was_typed(
    client: TestClient, mailbox: Mailbox, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    client.cookies.set("lang", "en")
    response = post(client, f"{page}/invite", {"email": "doctor@"}, page)
    assert response.status_code == 422
    shown = page_of(response)
    assert accessibility_problems(shown, "en") == []
    assert shown.find(class_="error-summary").find("a").attrs["href"] == "#email"
    assert shown.find("input", name="email").attrs["value"] == "doctor@"
    assert mailbox.messages == []


def test_only_the_representative_changes_members(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    director, page = clinic
    doctor = doctor_joins(client, mailbox, database_url, page)
    with another_browser(client) as phone:
        sign_in_as(phone, database_url, doctor, SignInMethod.EMAIL, Assurance.LOW)
        for action, data in (
            ("invite", {"email": "nurse@example.jp"}),
            ("remove", {"person": str(director)}),
            ("hand-over", {"person": str(doctor)}),
        ):
            assert post(phone, f"{page}/{action}", data, page).status_code == 403, action
    assert [role for _, role in memberships(database_url, director)] == ["representative"]


def test_someone_outside_the_organisation_reaches_nothing_of_it(
    client: TestClient, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    director, page = clinic
    with another_browser(client) as stranger:
        sign_in_as(stranger, database_url, make_person(database_url, "他人 三郎"))
        assert stranger.get(page).status_code == 404
        for action, data in (
            ("invite", {"email": "x@example.jp"}),
            ("remove", {"person": str(director)}),
            ("hand-over", {"person": str(director)}),
            ("leave", {}),
        ):
            token = form_token(stranger, "/account/acting-for")
            answer = stranger.post(f"{page}/{action}", data={**data, "csrf_token": token})
            assert answer.status_code == 404, action
    assert [role for _, role in memberships(database_url, director)] == ["representative"]


def test_removing_a_member_ends_their_acting_for_it(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    director, page = clinic
    doctor = doctor_joins(client, mailbox, database_url, page)
    [organisation] = organisation_ids(database_url, doctor)
    with another_browser(client) as phone:
        sign_in_as(phone, database_url, doctor, SignInMethod.EMAIL, Assurance.LOW)
        token = form_token(phone, "/account/acting-for")
        chosen = {"organisation": str(organisation), "csrf_token": token}
        assert phone.post("/account/acting-for", data=chosen).status_code == 200
        assert acting_chosen(phone) == "さくら内科"
        doctor_cookies = dict(phone.cookies.items())

    stranger_id = make_person(database_url, "他人 三郎")
    not_a_member = post(client, f"{page}/remove", {"person": str(stranger_id)}, page)
    assert not_a_member.status_code == 404  # a person id from a form is only a question
    assert post(client, f"{page}/remove", {"person": str(doctor)}, page).status_code == 303
    assert memberships(database_url, doctor) == []
    assert set(session_acting_for(database_url, doctor)) == {None}
    [removed] = audit_of(database_url, "organisation.member_removed")
    assert removed.actor == f"person:{director}"
    assert removed.details == {
        "organisation": str(organisation),
        "member": str(doctor),
        "old_role": "member",
        "new_role": None,
    }
    with another_browser(client) as phone:
        phone.cookies.update(doctor_cookies)
        assert acting_chosen(phone) is None
        assert phone.get(page).status_code == 404


def test_a_membership_gone_while_acting_is_noticed_on_the_next_request(
    client: TestClient, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    """Even if the session was saved back after the membership ended (a request in flight),
    reading the acting capacity checks the membership again."""
    director, _ = clinic
    [organisation] = organisation_ids(database_url, director)
    token = form_token(client, "/account/acting-for")
    client.post(
        "/account/acting-for", data={"organisation": str(organisation), "csrf_token": token}
    )
    assert session_acting_for(database_url, director) == [organisation]

    async def end(db: AsyncSession) -> None:
        await db.execute(delete(Membership).where(Membership.person_id == director))

    read(database_url, end)
    assert session_acting_for(database_url, director) == [organisation]
    assert acting_chosen(client) is None
    assert session_acting_for(database_url, director) == [None]


def test_handing_over_representation(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    director, page = clinic
    doctor = doctor_joins(client, mailbox, database_url, page)
    assert post(client, f"{page}/hand-over", {"person": str(doctor)}, page).status_code == 303
    assert [role for _, role in memberships(database_url, doctor)] == ["representative"]
    assert [role for _, role in memberships(database_url, director)] == ["member"]
    changes = audit_of(database_url, "organisation.role_changed")
    assert [
        (e.details["member"], e.details["old_role"], e.details["new_role"]) for e in changes
    ] == [
        (str(doctor), "member", "representative"),
        (str(director), "representative", "member"),
    ]
    assert {e.actor for e in changes} == {f"person:{director}"}
    # the former representative is a member now, and the director may leave
    assert post(client, f"{page}/remove", {"person": str(doctor)}, page).status_code == 403
    assert post(client, f"{page}/leave", {}, page).status_code == 303
    assert memberships(database_url, director) == []


def test_the_only_representative_cannot_leave_before_handing_over(
    client: TestClient, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    director, page = clinic
    client.cookies.set("lang", "en")
    response = post(client, f"{page}/leave", {}, page)
    assert response.status_code == 422
    shown = page_of(response)
    assert accessibility_problems(shown, "en") == []
    assert "hand over representation" in shown.find(class_="error-summary").text
    assert post(client, f"{page}/remove", {"person": str(director)}, page).status_code == 422
    assert [role for _, role in memberships(database_url, director)] == ["representative"]


def test_a_member_who_leaves_stops_acting_for_it(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    doctor = doctor_joins(client, mailbox, database_url, page)
    [organisation] = organisation_ids(database_url, doctor)
    with another_browser(client) as phone:
        sign_in_as(phone, database_url, doctor, SignInMethod.EMAIL, Assurance.LOW)
        token = form_token(phone, "/account/acting-for")
        phone.post(
            "/account/acting-for", data={"organisation": str(organisation), "csrf_token": token}
        )
        left = post(phone, f"{page}/leave", {}, page)
        assert (left.status_code, left.headers["location"]) == (303, "/account/organisations")
        assert acting_chosen(phone) is None
    assert memberships(database_url, doctor) == []
    assert set(session_acting_for(database_url, doctor)) == {None}
    [entry] = audit_of(database_url, "organisation.member_left")
    assert (entry.details["old_role"], entry.details["new_role"]) == ("member", None)


def test_an_invitation_lapses_when_its_sender_no_longer_represents(
    client: TestClient, mailbox: Mailbox, database_url: str, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    nurse = doctor_joins(client, mailbox, database_url, page)  # someone to hand over to
    assert invite(client, page, email="late@example.jp") == 200
    link = invitation_in(text_of(mailbox.only_message_to("late@example.jp")))
    assert post(client, f"{page}/hand-over", {"person": str(nurse)}, page).status_code == 303
    with another_browser(client) as phone:
        assert accept(phone, link)[0] == 422
    assert len(audit_of(database_url, "organisation.member_added")) == 1  # the nurse only


def test_invitations_to_one_address_are_limited(
    client: TestClient, mailbox: Mailbox, clinic: tuple[uuid.UUID, str]
) -> None:
    _, page = clinic
    for _ in range(5):
        assert invite(client, page) == 200
    client.cookies.set("lang", "en")
    response = post(client, f"{page}/invite", {"email": DOCTOR}, page)
    assert response.status_code == 429
    shown = page_of(response)
    assert accessibility_problems(shown, "en") == []
    assert shown.find("input", name="email").attrs["value"] == DOCTOR
    assert len(mailbox.messages) == 5
