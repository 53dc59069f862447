"""JIS X 0402 check digits and the parsing of codes people and systems type."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput
from madoguchi.tenants.codes import (
    is_valid_jis_code,
    jis_check_digit,
    parse_tenant_code,
    with_check_digit,
)

five_digits = st.text(alphabet="0123456789", min_size=5, max_size=5)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("010006", "北海道"),
        ("011002", "札幌市"),
        ("131016", "千代田区"),
        ("141003", "横浜市"),
        ("141305", "川崎市"),
        ("271403", "堺市"),
    ],
)
def test_known_codes_carry_their_check_digit(code: str, name: str) -> None:
    assert with_check_digit(code[:5]) == code, name
    assert is_valid_jis_code(code)


@given(five_digits)
def test_check_digit_follows_the_formula(base: str) -> None:
    weighted = sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), base, strict=True))
    assert jis_check_digit(base) == str(11 - weighted % 11)[-1]


@given(five_digits, st.integers(min_value=1, max_value=9))
def test_any_changed_check_digit_is_refused(base: str, shift: int) -> None:
    good = with_check_digit(base)
    bad = base + str((int(good[5]) + shift) % 10)
    assert not is_valid_jis_code(bad)
    with pytest.raises(InvalidInput) as raised:
        parse_tenant_code(bad)
    assert raised.value.field == "code"
    assert good[5] in str(raised.value)


@given(five_digits)
def test_five_and_six_digit_and_full_width_forms_agree(base: str) -> None:
    code = with_check_digit(base)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert (
        parse_tenant_code(base) == parse_tenant_code(code) == parse_tenant_code(full_width) == code
    )


@pytest.mark.parametrize("raw", ["digital", "Digital", " nta "])
def test_national_codes_are_lower_case_words(raw: str) -> None:
    assert parse_tenant_code(raw) == raw.strip().lower()


@pytest.mark.parametrize(
    "raw", ["", "1", "0110020", "01-100", "札幌", "a", "digital-agency", "x" * 30]
)
def test_malformed_codes_name_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_tenant_code(raw, field="prefecture")
    assert raised.value.field == "prefecture"
    assert raised.value.status == 422


@given(st.text(max_size=12))
def test_parsing_never_fails_unexpectedly(raw: str) -> None:
    try:
        code = parse_tenant_code(raw)
    except InvalidInput:
        return
    assert is_valid_jis_code(code) or code.isalpha()


def test_a_base_must_be_five_digits() -> None:
    with pytest.raises(ValueError, match="5 digits"):
        jis_check_digit("0110")
