"""Postal code → prefecture, municipality, ward and towns, from Japan Post's data."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.tenants.postal import parse_postal_code, postal_directory

digits = st.text(alphabet="0123456789", min_size=7, max_size=7)
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@given(digits, st.sampled_from(["", "〒", "〒 "]), st.sampled_from(["", "-", "－", "ー", "−", " "]))
def test_the_seven_digits_are_found_in_what_people_type(code: str, prefix: str, dash: str) -> None:
    typed = f"{prefix}{code[:3]}{dash}{code[3:]}"
    assert parse_postal_code(typed) == code
    assert parse_postal_code(typed.translate(FULL_WIDTH)) == code


@given(st.text(max_size=12))
def test_anything_else_is_a_clear_error(raw: str) -> None:
    try:
        code = parse_postal_code(raw)
    except InvalidInput as error:
        assert error.field == "postal_code"
        assert error.status == 422
    else:
        assert len(code) == 7 and code.isdigit()


@pytest.mark.parametrize("raw", ["", "123456", "12345678", "abc-defg", "١٢٣٤٥٦٧"])
def test_malformed_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="7 digits"):
        parse_postal_code(raw)


def test_a_ward_resolves_to_its_city_and_is_reported() -> None:
    (town,) = postal_directory().lookup("060-0001").towns
    assert (town.prefecture.name, town.municipality.name, town.municipality.code) == (
        "北海道", "札幌市", "011002",
    )  # fmt: skip
    assert town.ward is not None and town.ward.name == "中央区"
    assert (town.town, town.town_kana) == ("北一条西", "キタ１ジョウニシ")


def test_a_code_covering_several_places_returns_all_of_them() -> None:
    towns = postal_directory().lookup("0040000").towns
    assert {t.ward.name for t in towns if t.ward} == {"厚別区", "清田区"}
    assert {t.municipality.code for t in towns} == {"011002"}


def test_a_code_with_many_towns_lists_every_town() -> None:
    towns = postal_directory().lookup("452-0961").towns
    assert len(towns) == 66
    assert {t.municipality.name for t in towns} == {"清須市"}
    assert len({t.town for t in towns}) == 66


def test_a_code_can_span_two_prefectures() -> None:
    towns = postal_directory().lookup("4980000").towns
    assert {(t.prefecture.name, t.municipality.name) for t in towns} == {
        ("愛知県", "弥富市"), ("三重県", "木曽岬町"),
    }  # fmt: skip


def test_a_municipality_outside_designated_cities_has_no_ward() -> None:
    (town,) = postal_directory().lookup("1000001").towns
    assert (town.municipality.name, town.municipality.kind, town.ward) == (
        "千代田区", "special_ward", None,
    )  # fmt: skip


def test_a_large_office_has_its_own_code() -> None:
    (town,) = postal_directory().lookup("1008111").towns
    assert town.office == "宮内庁"
    assert town.municipality.name == "千代田区"


def test_an_unused_code_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        postal_directory().lookup("0000000")
    assert raised.value.field == "postal_code"
