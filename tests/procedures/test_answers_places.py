"""Address and local-government answers, checked against Japan Post's and JIS X 0402 data."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput
from madoguchi.procedures.answers.places import (
    AddressFound,
    address_from_postal_code,
    parse_address,
    parse_local_government,
)
from madoguchi.procedures.definition import Address, LocalGovernment, LocalText
from madoguchi.tenants.service import find_local_government

LABEL = LocalText(ja="質問")
ADDRESS = Address(type="address", id="home", label=LABEL)
LOCAL = LocalGovernment(type="local_government", id="city", label=LABEL)


def address(**parts: str) -> dict[str, str]:
    raw = {
        "postal_code": "100-0001",
        "prefecture": "東京都",
        "municipality": "千代田区",
        "town": "千代田",
        "street": "１－１",
        "building": "",
    }
    return raw | parts


# --- Finding the address from a postal code -------------------------------------------------


def test_a_postal_code_gives_what_the_form_should_show() -> None:
    assert address_from_postal_code("〒100-0001") == {
        "postal_code": "1000001",
        "prefecture": "東京都",
        "municipality": "千代田区",
        "town": "千代田",
        "towns": ["千代田"],
    }


def test_a_ward_of_a_designated_city_is_part_of_the_municipality_shown() -> None:
    found = address_from_postal_code("231-0023")
    assert (found["prefecture"], found["municipality"], found["town"]) == (
        "神奈川県",
        "横浜市中区",
        "山下町",
    )


def test_a_postal_code_with_several_towns_lists_them_and_fills_none() -> None:
    found = address_from_postal_code("452-0961")
    assert found["town"] == ""
    assert "春日落合" in found["towns"] and len(found["towns"]) > 1


def test_an_unknown_or_malformed_postal_code_is_refused() -> None:
    with pytest.raises(InvalidInput, match="No address has the postal code 0000000") as caught:
        address_from_postal_code("000-0000")
    assert caught.value.field == "postal_code"
    with pytest.raises(InvalidInput, match="7 digits"):
        address_from_postal_code("12-34", field="home.postal_code")


def test_only_a_postal_code_asks_to_check_the_prefilled_address() -> None:
    with pytest.raises(AddressFound, match="check it and add the street number") as caught:
        parse_address(ADDRESS, {"postal_code": "１００－０００１", "prefecture": ""})
    assert caught.value.field == "home.street"
    assert caught.value.status == 422
    assert caught.value.prefill == address_from_postal_code("1000001")


# --- Parsing an address ---------------------------------------------------------------------


def test_an_address_is_returned_with_codes_and_normalised_parts() -> None:
    value = parse_address(ADDRESS, address(building=" 千代田ビル　３階 "))
    assert value == {
        "postal_code": "1000001",
        "prefecture": {"code": "130001", "name": "東京都"},
        "municipality": {"code": "131016", "name": "千代田区"},
        "ward": None,
        "town": "千代田",
        "street": "1-1",
        "building": "千代田ビル 3階",
    }


def test_a_ward_is_returned_beside_its_city() -> None:
    value = parse_address(
        ADDRESS,
        address(
            postal_code="2310023", prefecture="神奈川", municipality="横浜市中区", town="山下町"
        ),
    )
    assert value["municipality"] == {"code": "141003", "name": "横浜市"}
    assert value["ward"] == {"code": "141046", "name": "中区"}


@pytest.mark.parametrize("municipality", ["横浜市", "横浜市中区", "中区", "141003", ""])
def test_the_municipality_may_be_typed_in_the_ways_people_write_it(municipality: str) -> None:
    value = parse_address(
        ADDRESS, address(postal_code="2310023", prefecture="", municipality=municipality, town="")
    )
    assert value["municipality"]["code"] == "141003"
    assert value["town"] == "山下町"


@pytest.mark.parametrize("prefecture", ["東京都", "東京", "13", "130001", ""])
def test_the_prefecture_may_be_a_name_or_code(prefecture: str) -> None:
    assert parse_address(ADDRESS, address(prefecture=prefecture))["prefecture"]["code"] == "130001"


def test_the_town_typed_chooses_among_the_wards_of_a_postal_code() -> None:
    value = parse_address(
        ADDRESS,
        address(postal_code="0040000", prefecture="北海道", municipality="札幌市清田区", town=""),
    )
    assert value["ward"]["name"] == "清田区"
    assert value["town"] == ""


def test_a_typed_town_picks_the_matching_postal_town() -> None:
    value = parse_address(
        ADDRESS,
        address(
            postal_code="4520961", prefecture="愛知県", municipality="清須市", town="春日落合１０"
        ),
    )
    assert value["town"] == "春日落合10"


@pytest.mark.parametrize(
    ("parts", "field", "message"),
    [
        ({"postal_code": ""}, "home.postal_code", "Enter the postal code"),
        ({"postal_code": "abc"}, "home.postal_code", "7 digits"),
        ({"postal_code": "0000000"}, "home.postal_code", "No address has the postal code 0000000"),
        ({"prefecture": "大阪府"}, "home.prefecture", "100-0001 is in 東京都, not 大阪府"),
        ({"prefecture": "27"}, "home.prefecture", "is in 東京都, not 27"),
        ({"municipality": "港区"}, "home.municipality", "100-0001 is in 千代田区, not 港区"),
        ({"street": ""}, "home.street", "block and house number"),
        ({"building": "x" * 201}, "home.building", "at most 200 characters"),
    ],
)
def test_each_wrong_part_names_its_field(parts: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_address(ADDRESS, address(**parts))
    assert caught.value.field == field
    assert not isinstance(caught.value, AddressFound)


def test_a_ward_mismatch_names_the_city_and_ward() -> None:
    with pytest.raises(InvalidInput, match="is in 横浜市中区, not 横浜市西区") as caught:
        parse_address(
            ADDRESS, address(postal_code="2310023", prefecture="", municipality="横浜市西区")
        )
    assert caught.value.field == "home.municipality"


def test_a_town_is_needed_when_the_postal_code_has_several() -> None:
    with pytest.raises(InvalidInput, match="town") as caught:
        parse_address(
            ADDRESS, address(postal_code="4520961", prefecture="", municipality="", town="")
        )
    assert caught.value.field == "home.town"


def test_an_address_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Enter the postal code") as caught:
        parse_address(ADDRESS, "東京都千代田区千代田1-1")
    assert caught.value.field == "home.postal_code"


# --- Local governments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [("131016", "131016"), ("13101", "131016"), ("０１１００２", "011002"), ("130001", "130001")],
)
def test_a_local_government_is_its_six_digit_code(raw: str, code: str) -> None:
    assert parse_local_government(LOCAL, raw) == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1310", "6 digits"),
        ("digital", "6 digits"),
        (["131016"], "6 digits"),
        ("131017", "check digit of 131017 is wrong"),
        ("141046", "No local government has the code 141046"),  # a ward of Yokohama
        ("99999", "No local government has the code 999997"),
    ],
)
def test_other_codes_are_refused(raw: str | list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_local_government(LOCAL, raw)
    assert caught.value.field == "city"


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_every_base_code_is_a_local_government_or_refused(base: str) -> None:
    try:
        code = parse_local_government(LOCAL, base)
    except InvalidInput as error:
        assert error.field == "city"
    else:
        assert code[:5] == base
        assert find_local_government(code) is not None


def test_national_bodies_and_wards_are_not_local_governments() -> None:
    assert find_local_government("digital") is None
    assert find_local_government("141046") is None
    found = find_local_government("141003")
    assert found is not None and found.name == "横浜市"
