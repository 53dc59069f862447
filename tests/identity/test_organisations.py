"""Organisations' service: the numbers people type, registration, duplicates and assurance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import luhn
from stdnum.jp import cn

from madoguchi.core.errors import InvalidInput, InvalidInputs, NotFound
from madoguchi.core.ids import uuid7
from madoguchi.identity import organisations
from madoguchi.identity.models import (
    Assurance,
    AuditEntry,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
)
from madoguchi.identity.organisation_numbers import (
    Registration,
    check_registration,
    parse_corporate_number,
    parse_medical_institution_code,
)
from madoguchi.identity.organisations import AlreadyRegistered, CardSignInNeeded

bases = st.text(alphabet="0123456789", min_size=12, max_size=12)
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def corporate_number(base: str) -> str:
    return cn.calc_check_digit(base) + base


def medical_code(prefecture: int, table: str, rest: str) -> str:
    body = f"{prefecture:02d}{table}{rest}"
    return body + luhn.calc_check_digit(body)


@given(bases)
def test_a_corporate_number_with_its_check_digit_first_is_accepted(base: str) -> None:
    number = corporate_number(base)
    assert parse_corporate_number(number) == number
    typed = f"{number[0]}-{number[1:5]}-{number[5:9]}-{number[9:]}".translate(FULL_WIDTH)
    assert parse_corporate_number(typed) == number  # full-width digits and hyphens


@given(bases, st.sampled_from("123456789"))
def test_any_other_first_digit_is_refused(base: str, first: str) -> None:
    if first == cn.calc_check_digit(base):
        return
    with pytest.raises(InvalidInput) as refused:
        parse_corporate_number(first + base)
    assert refused.value.field == "corporate_number"
    assert "first digit does not match" in str(refused.value)


@pytest.mark.parametrize("typed", ["", "123456789012", "58356782562460", "5835678256a46"])
def test_a_corporate_number_of_the_wrong_shape_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_corporate_number(typed, field="number")
    assert refused.value.field == "number"
    assert "corporate number" in str(refused.value)


@given(
    st.integers(1, 47),
    st.sampled_from("1346"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_a_medical_institution_code_of_a_prefecture_is_accepted(
    prefecture: int, table: str, rest: str
) -> None:
    code = medical_code(prefecture, table, rest)
    assert parse_medical_institution_code(code) == code
    assert parse_medical_institution_code(code.translate(FULL_WIDTH)) == code


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the medical institution code"),
        ("011011371", "10 digits"),
        (medical_code(0, "1", "101137"), "prefecture"),
        (medical_code(48, "1", "101137"), "prefecture"),
        (medical_code(13, "2", "101137"), "third digit"),
        ("0110113718", "last digit does not match"),
    ],
)
def test_a_wrong_medical_institution_code_is_refused(typed: str, says: str) -> None:
    assert parse_medical_institution_code("0110113719") == "0110113719"  # the known example
    with pytest.raises(InvalidInput) as refused:
        parse_medical_institution_code(typed)
    assert refused.value.field == "medical_institution_code"
    assert says in str(refused.value)


def test_a_registration_form_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidInputs) as refused:
        check_registration({"kind": "business", "name": " ", "corporate_number": "123"})
    assert sorted(p.field or "" for p in refused.value.problems) == ["corporate_number", "name"]
    with pytest.raises(InvalidInputs) as refused:
        check_registration({"kind": "shop", "name": "x"})
    assert [p.field for p in refused.value.problems] == ["kind"]


def test_a_registration_reads_only_the_numbers_its_kind_uses() -> None:
    other = check_registration(
        {"kind": "other", "name": "  町内会  ", "medical_institution_code": "junk"}
    )
    assert other == Registration(OrganisationKind.OTHER, "町内会")
    clinic = check_registration(
        {
            "kind": "medical-institution",
            "name": "医療法人 さくら会",
            "medical_institution_code": "0110113719",
            "corporate_number": "5835678256246",
        }
    )
    assert clinic.corporate_number == "5835678256246"
    assert clinic.medical_institution_code == "0110113719"
    with pytest.raises(InvalidInputs) as refused:
        check_registration({"kind": "medical-institution", "name": "クリニック"})
    assert [p.field for p in refused.value.problems] == ["medical_institution_code"]


async def _person(session: AsyncSession) -> Person:
    person = Person(id=uuid7(), display_name="山田 太郎", name="山田 太郎")
    session.add(person)
    await session.flush()
    return person


BUSINESS = Registration(OrganisationKind.BUSINESS, "株式会社テスト", "5835678256246")


async def test_a_card_proven_person_registers_and_represents(session: AsyncSession) -> None:
    person = await _person(session)
    organisation = await organisations.do_register(session, person.id, Assurance.HIGH, BUSINESS)
    membership = await organisations.check_member(session, person.id, organisation.id)
    assert membership.role == "representative"
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action.like("organisation%")))
    assert entry is not None
    assert (entry.actor, entry.action) == (f"person:{person.id}", "organisation.registered")
    assert entry.details["corporate_number"] == "5835678256246"
    assert entry.details["new_role"] == "representative"
    assert "not checked with gBizID" in entry.details["verified"]
    assert await organisations.organisation_name(session, organisation.id) == "株式会社テスト"


@pytest.mark.parametrize("assurance", [Assurance.NONE, Assurance.LOW])
async def test_a_session_not_proven_by_the_card_cannot_register(
    session: AsyncSession, assurance: Assurance
) -> None:
    person = await _person(session)
    with pytest.raises(CardSignInNeeded) as refused:
        await organisations.do_register(session, person.id, assurance, BUSINESS)
    assert refused.value.status == 403
    assert await session.scalar(select(Organisation.id)) is None


@pytest.mark.parametrize(
    "second",
    [
        Registration(OrganisationKind.BUSINESS, "別の会社", "5835678256246"),
        Registration(OrganisationKind.MEDICAL_INSTITUTION, "別", None, "0110113719"),
    ],
)
async def test_a_number_is_registered_once(session: AsyncSession, second: Registration) -> None:
    person, other = await _person(session), await _person(session)
    first = Registration(
        OrganisationKind.MEDICAL_INSTITUTION, "医院", "5835678256246", "0110113719"
    )
    await organisations.do_register(session, person.id, Assurance.HIGH, first)
    with pytest.raises(AlreadyRegistered) as refused:
        await organisations.do_register(session, other.id, Assurance.HIGH, second)
    assert refused.value.status == 409
    assert "ask its representative" in str(refused.value)
    assert await session.scalar(select(Membership).where(Membership.person_id == other.id)) is None


async def test_membership_is_checked_by_person_and_organisation(session: AsyncSession) -> None:
    person, stranger = await _person(session), await _person(session)
    organisation = await organisations.do_register(session, person.id, Assurance.HIGH, BUSINESS)
    for who, which in (
        (stranger.id, organisation.id),
        (person.id, uuid7()),
        (None, organisation.id),
    ):
        with pytest.raises(NotFound):
            await organisations.check_member(session, who, which)
    assert await organisations.organisation_name(session, uuid7()) is None


def test_names_are_marked_with_their_language() -> None:
    assert organisations.text_language("株式会社テスト") == "ja"
    assert organisations.text_language("Acme Trading Co., Ltd.") == "en"
    assert organisations.text_language("taro@example.jp") is None
