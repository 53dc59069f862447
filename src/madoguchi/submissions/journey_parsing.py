"""What a page posted, before its answers are parsed (procedures.validation.parse_given, with this
application's AnswerContext): files received, local governments found by name, and the buttons
that change the form without leaving the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from madoguchi.core.errors import InvalidInput
from madoguchi.core.text import search_key, strip_separators
from madoguchi.procedures.answers import AnswerContext
from madoguchi.procedures.answers.places import address_from_postal_code
from madoguchi.procedures.answers.uploads import MEGABYTE, accept_upload
from madoguchi.procedures.definition import Address, Group, Question
from madoguchi.submissions.drafts import FormValues
from madoguchi.submissions.journey_forms import (
    add_item,
    list_of,
    question_at,
    remove_file,
    remove_item,
    text_of,
    walk_questions,
)
from madoguchi.tenants import service as tenants

NAMES_LISTED = 5  # local governments named when a name matches several


# --- Files ----------------------------------------------------------------------------------------


async def take_uploads(
    form: FormData, questions: list[Question], values: FormValues, context: AnswerContext
) -> list[InvalidInput]:
    """Store each file posted with the page and keep its ref among the question's files."""
    problems: list[InvalidInput] = []
    for question, name in list(walk_questions(questions, values)):
        if question.type != "file":
            continue
        for upload in form.getlist(f"{name}.upload"):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue  # a file box left empty
            try:
                data = await _read(upload, question)
                stored = accept_upload(question, upload.filename, data, context.store)
            except InvalidInput as problem:
                problem.field = name
                problems.append(problem)
                continue
            values[f"{name}.ref"] = [*list_of(values, f"{name}.ref"), stored["ref"]]
    return problems


async def _read(upload: UploadFile, question: Any) -> bytes:
    """The file's content, without reading more than one byte past the question's limit."""
    limit = int(question.max_size_mb * MEGABYTE)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        size = upload.size or len(data)
        raise InvalidInput(
            "The file {name} is {size} MB; files for this question can be at most {most} MB.",
            field=question.id,
            name=upload.filename,
            size=f"{math.ceil(size * 10 / MEGABYTE) / 10:.1f}",
            most=f"{question.max_size_mb:g}",
        )
    return data


# --- Local governments by name --------------------------------------------------------------------


async def resolve_local_governments(
    session: AsyncSession, questions: list[Question], values: FormValues
) -> list[InvalidInput]:
    """Put the code in place of a local government's name where the name is clear."""
    problems: list[InvalidInput] = []
    for question, name in list(walk_questions(questions, values)):
        typed = text_of(values, name).strip()
        if question.type != "local_government" or not typed or strip_separators(typed).isdigit():
            continue
        try:
            values[name] = await _code_of(session, typed, name)
        except InvalidInput as problem:
            problems.append(problem)
    return problems


async def _code_of(session: AsyncSession, typed: str, field: str) -> str:
    found = await tenants.list_tenants(session, q=typed, limit=100)
    local = [t for t in found.items if tenants.TenantKind(t.kind).is_local]
    key = search_key(typed)
    exact = [t for t in local if key in {search_key(t.name), search_key(t.name_en or "")}]
    matches = exact or local
    if len(matches) == 1:
        return matches[0].code
    if not matches:
        raise InvalidInput(
            "No local government is called {name}: enter its name, such as 札幌市, or its code.",
            field=field,
            name=typed,
        )
    listed = ", ".join(f"{t.name} ({t.code})" for t in matches[:NAMES_LISTED])
    raise InvalidInput(
        "Several local governments match {name}: {listed}. Enter the code of the one you mean.",
        field=field,
        name=typed,
        listed=listed,
    )


# --- Buttons that change the form -----------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """What a page's submit button asked for: ``continue``, or a change to the form itself."""

    kind: str
    name: str = ""
    index: int = -1

    @classmethod
    def parse(cls, text: Any) -> Action:
        """``continue``, ``find-address:<field>``, ``add:<group>``, ``remove:<group>:<index>``,
        ``remove-file:<field>:<index>``; anything else is ``continue``."""
        kind, _colon, rest = str(text or "continue").partition(":")
        name, _colon, index = rest.partition(":")
        if kind not in ("find-address", "add", "remove", "remove-file") or not name:
            return cls("continue")
        return cls(kind, name, int(index) if index.isdigit() else -1)


@dataclass
class Changed:
    """What a change to the form found: problems, and the towns of a postal code looked up."""

    problems: list[InvalidInput]
    towns: dict[str, list[str]]


def apply_action(action: Action, questions: list[Question], values: FormValues) -> Changed:
    changed = Changed([], {})
    question = question_at(questions, action.name)
    if action.kind == "find-address" and isinstance(question, Address):
        find_address(action.name, values, changed)
    elif action.kind == "add" and isinstance(question, Group):
        add_item(question, values, action.name)
    elif action.kind == "remove" and isinstance(question, Group):
        remove_item(question, values, action.name, action.index)
    elif action.kind == "remove-file" and question is not None and question.type == "file":
        remove_file(values, action.name, action.index)
    return changed


def find_address(name: str, values: FormValues, changed: Changed) -> None:
    """Fill prefecture, municipality and town from the postal code typed (the round trip)."""
    field = f"{name}.postal_code"
    try:
        found = address_from_postal_code(text_of(values, field), field=field)
    except InvalidInput as problem:
        changed.problems.append(problem)
        return
    fill_address(name, found, values)
    changed.towns[name] = list(found["towns"])


def fill_address(name: str, found: Mapping[str, Any], values: FormValues) -> None:
    code = str(found["postal_code"])
    values[f"{name}.postal_code"] = f"{code[:3]}-{code[3:]}"
    values[f"{name}.prefecture"] = str(found["prefecture"])
    values[f"{name}.municipality"] = str(found["municipality"])
    if found["town"] or text_of(values, f"{name}.town") not in found["towns"]:
        values[f"{name}.town"] = str(found["town"])
