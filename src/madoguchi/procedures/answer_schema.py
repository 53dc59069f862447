"""The JSON Schema (draft 2020-12) of an API submission's body for one procedure version.

It describes what a client sends: ``{"answers": {<question id>: <value>}}`` with values as a
person would type them — strings, lists of strings for checkboxes and file refs, objects of
strings for an address, a name or a bank account, booleans for yes/no and declarations, numbers,
and lists of objects for repeatable groups. The server checks more than a schema can say (check
digits, that a postal code exists, which questions the answers lead to), so a body valid here may
still be refused with 422; every body the server accepts is valid here.

A question is listed as required only when every applicant is asked it: it is required, has no
``show_if``, and its page has none and cannot be jumped over by a skip. The others are optional
in the schema, and their description says the server decides from the other answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from madoguchi.procedures.definition import (
    Choice,
    Definition,
    FileUpload,
    Group,
    Guidance,
    LocalText,
    LongText,
    Number,
    Page,
    PersonName,
    Question,
    ShortText,
    Signature,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

# Digits as people type them: half or full width, with spaces or hyphens between them.
_DIGIT = "[0-9０-９]"
_SEPARATOR = "[\\s\\-‐‑‒–—―−－ｰー]*"


def digits_pattern(count: int | str) -> str:
    """``count`` digits (a number or a ``min,max`` range), separators allowed between them."""
    return f"^\\s*(?:{_DIGIT}{_SEPARATOR}){{{count}}}$"


POSTAL_CODE = f"^\\s*(?:〒\\s*)?(?:{_DIGIT}{_SEPARATOR}){{7}}$"
MY_NUMBER = digits_pattern(12)
CORPORATE_NUMBER = digits_pattern(13)
BANK_CODE = digits_pattern(4)
BRANCH_CODE = digits_pattern(3)
ACCOUNT_NUMBER = digits_pattern("1,7")
LOCAL_GOVERNMENT_CODE = digits_pattern("5,6")
FILE_REF = "^[0-9a-f]{64}(/.+)?$"
ACCOUNT_TYPES = ["ordinary", "current", "savings", "普通", "当座", "貯蓄", "1", "2", "4"]
CONDITIONAL = "Asked only on some applicants' paths: the server decides from the other answers."
SIGNATURE = {
    "type": "string",
    "contentEncoding": "base64",
    "description": (
        "The applicant's My Number card signature (CAdES-BES detached, DER, base64) of the "
        "bytes POST …/signing-payload answers for these answers."
    ),
}


def answer_schema(definition: Definition, schema_id: str) -> Schema:
    """The schema of ``{"answers": …}`` for ``definition``, identified by ``schema_id``."""
    questions = [
        (question, _always_asked(question, on_every_path))
        for page, on_every_path in _pages(definition)
        for question in page.questions
    ]
    answers = _object(questions)
    answers["additionalProperties"] = False
    properties: Schema = {"answers": answers}
    required = ["answers"]
    if definition.signature is Signature.REQUIRED:
        properties["signature"] = SIGNATURE
        required.append("signature")
    return {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": definition.title.ja,
        "description": _body_description(definition),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _body_description(definition: Definition) -> str:
    lines = [definition.title.en or definition.title.ja, ""]
    lines.append("Leave out the questions you do not answer.")
    if definition.declaration is not None:
        lines.append(
            "Before submitting, show the applicant this declaration, which submitting affirms: "
            + definition.declaration.ja
            + (f" / {definition.declaration.en}" if definition.declaration.en else "")
        )
    return "\n".join(lines)


def _pages(definition: Definition) -> list[tuple[Page, bool]]:
    """Each page, and whether every applicant who can submit goes through it: it has no
    ``show_if`` and no earlier skip can jump over it (a skip to an exit ends without a
    submission, so it jumps over nothing that matters)."""
    index = {page.id: number for number, page in enumerate(definition.pages)}
    jumps_past: list[int] = []  # for each skip, the last page index it can jump over
    found = []
    for number, page in enumerate(definition.pages):
        always = page.show_if is None and all(past < number for past in jumps_past)
        found.append((page, always))
        for skip in page.next:
            if skip.goto == "end":
                jumps_past.append(len(definition.pages))
            elif not skip.goto.startswith("exit:"):
                jumps_past.append(index.get(skip.goto, len(definition.pages)) - 1)
    return found


def _always_asked(question: Question, page_on_every_path: bool) -> bool:
    if isinstance(question, Guidance):
        return False
    return page_on_every_path and question.show_if is None and question.required


def _object(questions: list[tuple[Question, bool]]) -> Schema:
    properties: Schema = {}
    required = []
    for question, always in questions:
        if isinstance(question, Guidance):
            continue
        properties[question.id] = _question_schema(question, always)
        if always:
            required.append(question.id)
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _question_schema(question: Question, always: bool) -> Schema:
    assert not isinstance(question, Guidance)  # noqa: S101  (the caller skips guidance)
    schema = {"title": question.label.ja, **_SHAPES[question.type](question, always)}
    notes = [_english(question.label), _english(question.hint)]
    if not always and (question.show_if is not None or question.required):
        notes.append(CONDITIONAL)
    description = " ".join(note for note in notes if note)
    if description:
        schema["description"] = description
    return schema


def _english(text: LocalText | None) -> str:
    return text.en or "" if text is not None else ""


# --- Shapes per question type ----------------------------------------------------------------


def _string(max_length: int | None = None, **more: Any) -> Schema:
    schema: Schema = {"type": "string", "minLength": 1, **more}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def _short_text(question: ShortText, _always: bool) -> Schema:
    return _string(question.max_length)


def _long_text(question: LongText, _always: bool) -> Schema:
    return _string(question.max_length, minLength=max(1, question.min_length))


def _number(question: Number, _always: bool) -> Schema:
    exact: Schema = {"type": "integer" if question.integer else "number"}
    if question.minimum is not None:
        exact["minimum"] = question.minimum
    if question.maximum is not None:
        exact["maximum"] = question.maximum
    typed = _string(40, description="as typed, without the unit: 1,000 or １０００ or -2.5")
    return {"anyOf": [exact, typed]}


def _date(_question: Question, _always: bool) -> Schema:
    return _string(
        40,
        description="ISO 8601 (2026-04-01) or as people write it (令和8年4月1日, R8.4.1)",
        examples=["2026-04-01", "令和8年4月1日"],
    )


def _choice(question: Choice, _always: bool) -> Schema:
    values = [option.value for option in question.options]
    if question.style == "checkboxes":
        chosen = _checked(question, values + (["other"] if question.other else []))
        plain = _checked(question, values)
    else:
        chosen = {"enum": [*values, "other"] if question.other else values}
        plain = {"enum": values}
    if not question.other:
        return plain
    with_text = {
        "type": "object",
        "properties": {"value": chosen, "other": _string(200)},
        "required": ["value"],
        "additionalProperties": False,
        "description": 'Choose "other" and write the answer in "other".',
    }
    return {"anyOf": [plain, with_text]}


def _checked(question: Choice, values: list[str]) -> Schema:
    schema: Schema = {"type": "array", "items": {"enum": values}, "uniqueItems": True}
    least = question.min_selected if question.min_selected is not None else 1
    schema["minItems"] = max(least, 1)
    if question.max_selected is not None:
        schema["maxItems"] = question.max_selected
    return schema


def _yes_no(_question: Question, _always: bool) -> Schema:
    return {"type": "boolean"}


def _declaration(_question: Question, _always: bool) -> Schema:
    return {"const": True, "description": "true: the applicant confirms the declaration"}


def _email(_question: Question, _always: bool) -> Schema:
    return _string(254, pattern=".@.")


def _phone(_question: Question, _always: bool) -> Schema:
    return _string(40, examples=["090-1234-5678", "03-1234-5678", "+1 650-253-0000"])


def _parts(properties: Schema, required: list[str], **more: Any) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **more,
    }


def _address(_question: Question, _always: bool) -> Schema:
    part = _string(200)
    return _parts(
        {
            "postal_code": _string(20, pattern=POSTAL_CODE, examples=["100-0001"]),
            "prefecture": part,
            "municipality": part,
            "town": part,
            "street": _string(200, description="block and house number (番地), such as 1-2-3"),
            "building": {"type": "string", "maxLength": 200},
        },
        ["postal_code", "street"],
        description="Prefecture, municipality and town may be left out: the postal code "
        "gives them (a town is needed where a postal code covers several).",
    )


def _person_name(question: PersonName, _always: bool) -> Schema:
    part = _string(100)
    schema = _parts(
        {"family": part, "given": part, "family_kana": part, "given_kana": part},
        ["family", "family_kana"] if question.kana else ["family"],
    )
    if question.kana:
        schema["if"] = {"properties": {"given": {"pattern": "\\S"}}, "required": ["given"]}
        schema["then"] = {"required": ["given_kana"]}
        schema["description"] = "Readings in katakana (hiragana is converted)."
    return schema


def _my_number(_question: Question, _always: bool) -> Schema:
    return _string(40, pattern=MY_NUMBER, description="12 digits; stored only encrypted")


def _corporate_number(_question: Question, _always: bool) -> Schema:
    return _string(40, pattern=CORPORATE_NUMBER, examples=["5835678256246"])


def _bank_account(_question: Question, _always: bool) -> Schema:
    return _parts(
        {
            "bank": _string(20, pattern=BANK_CODE, description="4-digit bank code"),
            "branch": _string(20, pattern=BRANCH_CODE, description="3-digit branch code"),
            "type": {"enum": ACCOUNT_TYPES},
            "number": _string(20, pattern=ACCOUNT_NUMBER, description="up to 7 digits"),
            "holder": _string(60, description="the holder's name in katakana (Zengin set)"),
        },
        ["bank", "branch", "type", "number", "holder"],
    )


def _file(question: FileUpload, _always: bool) -> Schema:
    return {
        "type": "array",
        "items": {"type": "string", "pattern": FILE_REF},
        "minItems": 1,
        "maxItems": question.max_files,
        "description": "refs from POST /api/v1/procedures/{procedure_id}/files",
    }


def _local_government(_question: Question, _always: bool) -> Schema:
    return _string(20, pattern=LOCAL_GOVERNMENT_CODE, examples=["131016"])


def _group(group: Group, always: bool) -> Schema:
    item = _object([(q, _always_asked(q, True)) for q in group.questions])
    item["additionalProperties"] = False
    schema: Schema = {"type": "array", "items": item, "maxItems": group.max_items}
    if group.min_items and always:
        schema["minItems"] = group.min_items
    elif group.min_items:  # optional: none at all, or at least the minimum
        schema["anyOf"] = [{"maxItems": 0}, {"minItems": group.min_items}]
    return schema


_SHAPES: dict[str, Callable[[Any, bool], Schema]] = {
    "short_text": _short_text,
    "long_text": _long_text,
    "number": _number,
    "date": _date,
    "choice": _choice,
    "yes_no": _yes_no,
    "email": _email,
    "phone": _phone,
    "address": _address,
    "person_name": _person_name,
    "date_of_birth": _date,
    "my_number": _my_number,
    "corporate_number": _corporate_number,
    "bank_account": _bank_account,
    "file": _file,
    "declaration": _declaration,
    "local_government": _local_government,
    "group": _group,
}
