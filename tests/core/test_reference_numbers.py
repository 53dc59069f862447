"""Reference numbers: what is made can be read back, and a typing mistake is caught."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput
from madoguchi.core.reference_numbers import (
    ALPHABET,
    BODY_LENGTH,
    check_character,
    format_reference,
    new_reference,
    parse_reference,
)

bodies = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)


def reference_of(body: str) -> str:
    return format_reference(body + check_character(body))


def test_a_new_reference_reads_back_as_itself() -> None:
    reference = new_reference()
    assert len(reference) == 11
    assert parse_reference(reference) == reference
    assert len({new_reference() for _ in range(1000)}) == 1000


@given(bodies)
def test_forgiving_reading(body: str) -> None:
    reference = reference_of(body)
    typed = reference.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    full_width = reference.translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ-"}
    )
    assert parse_reference(typed) == reference
    assert parse_reference(full_width) == reference


@given(bodies, st.integers(0, BODY_LENGTH), st.sampled_from(ALPHABET))
def test_every_single_mistyped_character_is_caught(body: str, index: int, wrong: str) -> None:
    compact = body + check_character(body)
    if compact[index] == wrong:
        return
    mistyped = compact[:index] + wrong + compact[index + 1 :]
    with pytest.raises(InvalidInput, match="mistake") as raised:
        parse_reference(format_reference(mistyped))
    assert raised.value.field == "reference"


@given(bodies, st.integers(0, BODY_LENGTH - 1))
def test_swapped_neighbours_are_caught_unless_they_are_a_luhn_pair(body: str, index: int) -> None:
    compact = body + check_character(body)
    a, b = compact[index], compact[index + 1]
    if a == b or abs(ALPHABET.index(a) - ALPHABET.index(b)) == len(ALPHABET) - 1:
        return  # nothing changed, or the one pair (0 and the last symbol) Luhn cannot tell apart
    swapped = compact[:index] + b + a + compact[index + 2 :]
    with pytest.raises(InvalidInput):
        parse_reference(format_reference(swapped))


@pytest.mark.parametrize("raw", ["", "7KQ2-9XMD", "7KQ2-9XMD-RR", "7KQ2-9XMD-U", "参照番号"])
def test_what_is_not_a_reference_is_named(raw: str) -> None:
    with pytest.raises(InvalidInput, match="9 letters and digits"):
        parse_reference(raw, field="ref")
