"""Answers that are national identifiers: My Number, corporate number and a bank account.

My Number is never returned, stored, shown or put in a message: the parser gives back a token
sealed under the My Number key ring (``core.my_number_keys``: AES-256-GCM with the key id), its
keyed hash for exact-match lookups, and the last four digits for display. Error messages
describe what is wrong without repeating what was typed.

Bank account holder names follow the character set of the Zengin transfer file, written in
full width for display (the transfer file converts them to half width): katakana ア–ン and ヴ
(small kana such as ッ or ャ become their large forms ツ, ヤ, as banks print them), digits 0–9,
upper-case Latin letters A–Z (lower case is raised), the space, and the symbols （ ） ． ， ／ 「 」
and ー (any dash or hyphen typed is read as ー). Hiragana and half-width kana are converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jaconv
from stdnum.exceptions import ValidationError
from stdnum.jp import cn, in_
from zengin_code import Bank  # type: ignore[import-untyped]

from madoguchi.core.errors import InvalidInput
from madoguchi.core.my_number_keys import KeyRing
from madoguchi.core.text import fold_width, nfc, strip_separators
from madoguchi.procedures.answers import AnswerContext, Raw, parser

ACCOUNT_TYPES = {
    "ordinary": "ordinary", "普通": "ordinary", "1": "ordinary",
    "current": "current", "当座": "current", "2": "current",
    "savings": "savings", "貯蓄": "savings", "4": "savings",
}  # fmt: skip
ACCOUNT_NUMBER_DIGITS = 7
HOLDER_MAX_HALF_WIDTH = 30  # the 受取人名 field of a Zengin data record
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_DASHES = "-‐‑‒–—―−－ｰ─━"
_HOLDER_KATAKANA = {chr(c) for c in range(ord("ア"), ord("ン") + 1)} - set("ヰヱ") | {"ヴ"}
_HOLDER_OTHERS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().,/「」ー")


# --- My Number --------------------------------------------------------------------------------


def my_number_answer(question: Any, raw: Raw, keys: KeyRing) -> dict[str, str]:
    """``{"encrypted": token, "lookup": keyed hash, "last4": "1234"}`` for a valid My Number."""
    return keys.seal(_my_number_digits(question, raw))


@parser("my_number", context=True)
def parse_my_number(question: Any, raw: Raw, context: AnswerContext) -> dict[str, str]:
    return my_number_answer(question, raw, context.my_number_keys)


def mask_my_number(last4: str) -> str:
    """How a stored My Number is shown: ``●●●● ●●●● 1234``."""
    if not (len(last4) == 4 and last4.isascii() and last4.isdigit()):
        raise ValueError("last4 must be the 4 last digits of a My Number")
    return f"●●●● ●●●● {last4}"


def _my_number_digits(question: Any, raw: Raw) -> str:
    digits = strip_separators(raw) if isinstance(raw, str) else ""
    if not (len(digits) == 12 and digits.isascii() and digits.isdigit()):
        raise InvalidInput("Enter the 12 digits of the My Number.", field=question.id)
    try:
        in_.validate(digits)
    except ValidationError:
        raise InvalidInput(
            "This is not a valid My Number: check each of the 12 digits against the card.",
            field=question.id,
        ) from None
    return digits


# --- Corporate number ---------------------------------------------------------------------------


@parser("corporate_number")
def parse_corporate_number(question: Any, raw: Raw) -> str:
    """The 13-digit corporate number (法人番号), check digit verified."""
    digits = strip_separators(raw) if isinstance(raw, str) else ""
    if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            "Enter the 13 digits of the corporate number, such as 5835678256246.",
            field=question.id,
        )
    try:
        cn.validate(digits)
    except ValidationError:
        raise InvalidInput(
            "{value} is not a valid corporate number: check each of the 13 digits.",
            field=question.id,
            value=digits,
        ) from None
    return digits


# --- Bank account -------------------------------------------------------------------------------


@parser("bank_account")
def parse_bank_account(question: Any, raw: Raw) -> dict[str, str]:
    """Bank and branch codes checked against zengin-code, with their names for display."""
    fields = raw if isinstance(raw, Mapping) else {}
    bank = _bank(question.id, fields.get("bank", ""))
    branch = _branch(question.id, bank, fields.get("branch", ""))
    return {
        "bank_code": bank.code,
        "bank_name": bank.name,
        "bank_kana": bank.kana,
        "branch_code": branch.code,
        "branch_name": branch.name,
        "branch_kana": branch.kana,
        "type": _account_type(question.id, fields.get("type", "")),
        "number": _account_number(question.id, fields.get("number", "")),
        "holder": parse_account_holder(fields.get("holder", ""), field=f"{question.id}.holder"),
    }


def _code(raw: str, length: int) -> str | None:
    code = strip_separators(raw)
    return code if len(code) == length and code.isascii() and code.isdigit() else None


def _bank(question_id: str, raw: str) -> Any:
    field = f"{question_id}.bank"
    code = _code(raw, 4)
    if code is None:
        raise InvalidInput("Enter the bank code as 4 digits, such as 0001.", field=field)
    bank = Bank.all.get(code)
    if bank is None:
        raise InvalidInput("No bank has the code {code}.", field=field, code=code)
    return bank


def _branch(question_id: str, bank: Any, raw: str) -> Any:
    field = f"{question_id}.branch"
    code = _code(raw, 3)
    if code is None:
        raise InvalidInput("Enter the branch code as 3 digits, such as 001.", field=field)
    branch = bank.branches.get(code)
    if branch is None:
        raise InvalidInput(
            "{bank} has no branch with the code {code}.", field=field, bank=bank.name, code=code
        )
    return branch


def _account_type(question_id: str, raw: str) -> str:
    try:
        return ACCOUNT_TYPES[fold_width(raw).strip().lower()]
    except KeyError:
        raise InvalidInput(
            "Choose the type of account: ordinary (普通), current (当座) or savings (貯蓄).",
            field=f"{question_id}.type",
        ) from None


def _account_number(question_id: str, raw: str) -> str:
    digits = strip_separators(raw)
    if not (1 <= len(digits) <= ACCOUNT_NUMBER_DIGITS and digits.isascii() and digits.isdigit()):
        raise InvalidInput(
            "Enter the account number: up to {digits} digits.",
            field=f"{question_id}.number",
            digits=ACCOUNT_NUMBER_DIGITS,
        )
    return digits.zfill(ACCOUNT_NUMBER_DIGITS)


def parse_account_holder(raw: str, field: str) -> str:
    """The holder's name in full-width katakana and the Zengin character set (module docstring)."""
    text = jaconv.hira2kata(fold_width(raw)).upper().translate(_SMALL_KANA)
    text = "".join("ー" if ch in _DASHES else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("Enter the account holder's name in katakana.", field=field)
    wrong = sorted({ch for ch in text if ch not in _HOLDER_KATAKANA | _HOLDER_OTHERS})
    if wrong:
        raise InvalidInput(
            "The account holder's name can only use katakana, digits, capital letters, spaces "
            "and the symbols ( ) . , / 「 」 ー; change: {characters}.",
            field=field,
            characters=" ".join(wrong),
        )
    if len(jaconv.z2h(text, kana=True, ascii=True, digit=True)) > HOLDER_MAX_HALF_WIDTH:
        raise InvalidInput(
            "The account holder's name is too long for a bank transfer: at most {most} "
            "half-width characters, where ガ or パ count as two.",
            field=field,
            most=HOLDER_MAX_HALF_WIDTH,
        )
    return nfc(jaconv.h2z(text, kana=False, ascii=True, digit=True))
