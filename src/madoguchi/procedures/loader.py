"""Reading a definition from YAML: every problem reported with its path and line.

The YAML is read with ruamel's round-trip loader, which remembers where each key and item stood,
so that an error found by the models or by the reference checks can say "pages[0].questions[2].type
(line 14): …" instead of only what went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_
from madoguchi.procedures.definition import Definition
from madoguchi.procedures.references import check_references

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path or 'definition'}{where}: {self.message}"


class DefinitionError(InvalidInput):
    code = "invalid-definition"
    title = N_("The procedure definition is not valid")

    def __init__(self, problems: Sequence[Problem]) -> None:
        summary = "; ".join(str(p) for p in problems)
        super().__init__("{summary}", field="definition", summary=summary)
        self.problems = list(problems)


def load_definition(text: str) -> Definition:
    """The definition in ``text``, or DefinitionError listing every problem with its line."""
    document = _parse(text)
    try:
        definition = Definition.model_validate(_plain(document))
    except ValidationError as error:
        raise DefinitionError(_problems(document, error)) from None
    problems = [
        Problem(_dotted(path), line_of(document, path), message)
        for path, message in check_references(definition)
    ]
    if problems:
        raise DefinitionError(problems)
    return definition


def _parse(text: str) -> Any:
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise DefinitionError([Problem("", line, f"not valid YAML: {error.problem}")]) from None
    if not isinstance(document, dict):
        raise DefinitionError([Problem("", 1, "a definition is a mapping of keys to values")])
    return document


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists, for Pydantic."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _problems(document: Any, error: ValidationError) -> list[Problem]:
    problems = []
    for detail in error.errors():
        path = _without_union_tags(document, detail["loc"])
        problems.append(Problem(_dotted(path), line_of(document, path), detail["msg"]))
    return problems


def _without_union_tags(document: Any, loc: tuple[Any, ...]) -> Path:
    """The path in the document's own terms.

    Pydantic puts the union member it tried (``short_text``, ``compare``) inside the path; a part
    that looks like such a tag and is not a key of the node at that point is one, and is dropped.
    """
    path: list[str | int] = []
    node = document
    for part in loc:
        present = _has(node, part)
        if not present and isinstance(part, str) and _is_tag(part):
            continue
        path.append(part)
        node = node[part] if present else None
    return tuple(path)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _is_tag(part: str) -> bool:
    return (
        part[:1].isupper()
        or part in _QUESTION_TYPES
        or part in _CONDITION_TAGS
        or (part.startswith("function-"))
    )


_CONDITION_TAGS = {"compare", "all", "any", "not"}


_QUESTION_TYPES = {
    "short_text", "long_text", "number", "date", "choice", "yes_no", "email", "phone", "address",
    "person_name", "date_of_birth", "my_number", "corporate_number", "bank_account", "file",
    "declaration", "local_government", "guidance", "group",
}  # fmt: skip


def line_of(document: Any, path: Path) -> int | None:
    """The 1-based line of the deepest part of ``path`` that the document has."""
    node, line = document, None
    for part in path:
        position = _position(node, part)
        if position is None:
            break
        line = position + 1
        node = node[part]
    return line


def _position(node: Any, part: str | int) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
        return int(lc.item(part)[0])
    if isinstance(part, str) and isinstance(node, dict) and part in node:
        return int(lc.key(part)[0])
    return None


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
