"""My Number, corporate number and bank account answers: what is accepted, returned and refused."""

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zengin_code import Bank  # type: ignore[import-untyped]

from madoguchi.core.errors import InvalidInput
from madoguchi.core.my_number_keys import key_id_of, key_ring
from madoguchi.core.settings import Settings
from madoguchi.procedures.answers import AnswerContext, parse_answer
from madoguchi.procedures.answers.identifiers import (
    mask_my_number,
    my_number_answer,
    parse_account_holder,
    parse_bank_account,
    parse_corporate_number,
)
from madoguchi.procedures.definition import BankAccount, CorporateNumber, LocalText, MyNumber
from tests.support.my_numbers import new_key_ring, opened

SECRET = "a-test-secret-that-is-long-enough-to-use"
KEYS = new_key_ring()
LABEL = LocalText(ja="質問")
MY_NUMBER = MyNumber(type="my_number", id="my_number", label=LABEL)
CORPORATE = CorporateNumber(type="corporate_number", id="corporate", label=LABEL)
ACCOUNT = BankAccount(type="bank_account", id="account", label=LABEL)
VALID = "123456789018"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def remainder(body: str) -> int:
    """japan.md: weights 6,5,4,3,2,7,6,5,4,3,2 on the first 11 digits; sum mod 11."""
    weights = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    return sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11


def with_check(body: str) -> str:
    r = remainder(body)
    return body + ("0" if r <= 1 else str(11 - r))


eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


# --- My Number ----------------------------------------------------------------------------------


@given(eleven_digits, st.sampled_from(["", " ", "-", "－", "ー"]), st.booleans())
def test_a_valid_my_number_is_stored_encrypted_with_its_last_four(
    body: str, separator: str, full_width: bool
) -> None:
    number = with_check(body)
    typed = separator.join([number[:4], number[4:8], number[8:]])
    if full_width:
        typed = typed.translate(FULL_WIDTH)
    value = my_number_answer(MY_NUMBER, typed, KEYS)
    assert set(value) == {"encrypted", "lookup", "last4"}
    assert value["last4"] == number[-4:]
    assert value["lookup"] == KEYS.lookup(number)
    assert number not in str(value)
    assert key_id_of(value["encrypted"]) == KEYS.active
    assert opened(KEYS, value["encrypted"]) == number


@given(eleven_digits, st.integers(0, 11), st.integers(1, 9))
def test_a_valid_my_number_with_one_digit_changed_is_refused(
    body: str, position: int, change: int
) -> None:
    number = with_check(body)
    digits = list(number)
    digits[position] = str((int(digits[position]) + change) % 10)
    changed = "".join(digits)
    # The check digit maps remainders 0 and 1 alike, so a change of the body between those
    # two remainders is the one single-digit error that the scheme cannot see.
    blind_spot = position < 11 and {remainder(body), remainder(changed[:11])} == {0, 1}
    if blind_spot:
        assert my_number_answer(MY_NUMBER, changed, KEYS)["last4"] == changed[-4:]
        return
    with pytest.raises(InvalidInput, match="not a valid My Number") as caught:
        my_number_answer(MY_NUMBER, changed, KEYS)
    assert caught.value.field == "my_number"


def test_a_changed_check_digit_is_always_refused() -> None:
    for digit in "0123456789":
        if digit != VALID[-1]:
            with pytest.raises(InvalidInput, match="not a valid My Number"):
                my_number_answer(MY_NUMBER, VALID[:-1] + digit, KEYS)


@pytest.mark.parametrize("raw", ["12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٨"])
def test_anything_but_twelve_digits_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="Enter the 12 digits") as caught:
        my_number_answer(MY_NUMBER, raw, KEYS)
    assert caught.value.field == "my_number"


def test_a_list_or_mapping_is_refused() -> None:
    for raw in ([VALID], {"number": VALID}):
        with pytest.raises(InvalidInput, match="Enter the 12 digits"):
            my_number_answer(MY_NUMBER, raw, KEYS)


def test_the_number_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = VALID[:-1] + "9"
    for raw in (wrong, wrong + "1"):
        with pytest.raises(InvalidInput) as caught:
            my_number_answer(MY_NUMBER, raw, KEYS)
        error = caught.value
        shown = " ".join(
            [str(error), repr(error), error.message, repr(error.params), repr(error.args)]
        )
        assert wrong not in shown
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    value = my_number_answer(MY_NUMBER, VALID, KEYS)
    assert VALID not in repr(value)
    assert VALID not in caplog.text


def test_the_registered_parser_takes_the_keys_from_the_context(tmp_path: Path) -> None:
    settings = Settings(secret_key=SECRET, data_dir=tmp_path)
    context = AnswerContext.of(settings)
    value = parse_answer(MY_NUMBER, VALID, context)
    assert opened(key_ring(settings), value["encrypted"]) == VALID


def test_a_stored_my_number_is_shown_masked() -> None:
    assert mask_my_number("9018") == "●●●● ●●●● 9018"
    for wrong in ("901", "90185", "abcd", "９０１８"):
        with pytest.raises(ValueError, match="4 last digits"):
            mask_my_number(wrong)


# --- Corporate number -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["5835678256246", "5-8356-7825-6246", "５８３５６７８２５６２４６"])
def test_a_corporate_number_is_its_thirteen_digits(raw: str) -> None:
    assert parse_corporate_number(CORPORATE, raw) == "5835678256246"


@pytest.mark.parametrize(
    "raw", ["583567825624", "58356782562460", "583567825624x", ["5835678256246"]]
)
def test_a_corporate_number_needs_thirteen_digits(raw: str | list[str]) -> None:
    with pytest.raises(InvalidInput, match="13 digits of the corporate number") as caught:
        parse_corporate_number(CORPORATE, raw)
    assert caught.value.field == "corporate"


def test_a_corporate_number_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="6835678256246 is not a valid corporate number"):
        parse_corporate_number(CORPORATE, "6835678256246")


# --- Bank account --------------------------------------------------------------------------------


def account(**changes: str) -> dict[str, str]:
    raw = {
        "bank": "0001",
        "branch": "001",
        "type": "普通",
        "number": "1234",
        "holder": "やまだ たろう",
    }
    return raw | changes


def test_a_bank_account_is_returned_with_names_for_display() -> None:
    assert parse_bank_account(ACCOUNT, account()) == {
        "bank_code": "0001",
        "bank_name": "みずほ",
        "bank_kana": "ミズホ",
        "branch_code": "001",
        "branch_name": "東京営業部",
        "branch_kana": "トウキヨウ",
        "type": "ordinary",
        "number": "0001234",
        "holder": "ヤマダ\u3000タロウ",
    }


def test_codes_and_numbers_may_be_typed_in_full_width() -> None:
    value = parse_bank_account(
        ACCOUNT, account(bank="０００１", branch="００１", number="１２３４５６７", type="当座")
    )
    assert (value["bank_code"], value["number"], value["type"]) == ("0001", "1234567", "current")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("ordinary", "ordinary"), ("Current", "current"), ("貯蓄", "savings"), ("1", "ordinary")],
)
def test_account_types_in_words_or_codes(typed: str, expected: str) -> None:
    assert parse_bank_account(ACCOUNT, account(type=typed))["type"] == expected


@given(st.text(alphabet="0123456789", min_size=4, max_size=4))
def test_every_bank_code_resolves_or_is_refused_on_the_bank_field(code: str) -> None:
    try:
        value = parse_bank_account(ACCOUNT, account(bank=code, branch="001"))
    except InvalidInput as error:
        expected_field = "account.branch" if code in Bank.all else "account.bank"
        assert error.field == expected_field
    else:
        assert value["bank_code"] == code
        assert value["bank_name"] == Bank.all[code].name


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bank": "1"}, "account.bank", "bank code as 4 digits"),
        ({"bank": "00001"}, "account.bank", "bank code as 4 digits"),
        ({"bank": "0002"}, "account.bank", "No bank has the code 0002"),
        ({"branch": "01"}, "account.branch", "branch code as 3 digits"),
        ({"branch": "998"}, "account.branch", "みずほ has no branch with the code 998"),
        ({"type": "checking"}, "account.type", "type of account"),
        ({"type": ""}, "account.type", "type of account"),
        ({"number": ""}, "account.number", "up to 7 digits"),
        ({"number": "12345678"}, "account.number", "up to 7 digits"),
        ({"number": "12a"}, "account.number", "up to 7 digits"),
        ({"holder": " "}, "account.holder", "holder's name in katakana"),
        ({"holder": "山田"}, "account.holder", "change: 山 田"),
        ({"holder": "ヤマダ・タロウ"}, "account.holder", "change: ・"),
        ({"holder": "ガ" * 16}, "account.holder", "at most 30 half-width"),
    ],
)
def test_each_wrong_part_names_its_field(changes: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_bank_account(ACCOUNT, account(**changes))
    assert caught.value.field == field


def test_a_bank_account_needs_its_parts() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_bank_account(ACCOUNT, "0001")
    assert caught.value.field == "account.bank"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("やまだ　たろう", "ヤマダ\u3000タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ"),
        ("ｶ)ﾏﾄﾞｸﾞﾁ", "カ）マドグチ"),
        ("きょうこ", "キヨウコ"),
        ("madoguchi co.", "ＭＡＤＯＧＵＣＨＩ\u3000ＣＯ．"),
        ("ユ-ザ-1/2", "ユーザー１／２"),
        ("ｶﾌﾞｼｷｶﾞｲｼﾔ「ｶﾅ」,", "カブシキガイシヤ「カナ」，"),
        ("ヴァン", "ヴアン"),
    ],
)
def test_holder_names_become_full_width_katakana(typed: str, expected: str) -> None:
    assert parse_account_holder(typed, field="holder") == expected


@given(st.text(max_size=40))
def test_any_holder_name_is_accepted_in_the_zengin_set_or_refused(typed: str) -> None:
    try:
        holder = parse_account_holder(typed, field="holder")
    except InvalidInput as error:
        assert error.field == "holder"
    else:
        assert parse_account_holder(holder, field="holder") == holder
