"""What the staff pages of procedures share: the YAML form and finding the procedure.

A definition that does not load comes back in its textarea exactly as typed, with each
problem's line, path and the text of that line, so the fix is made where the problem is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from madoguchi.core.clock import format_moment
from madoguchi.core.errors import InvalidInput
from madoguchi.core.forms import FormError, FormErrors
from madoguchi.core.i18n import current_language
from madoguchi.procedures import service
from madoguchi.procedures.definition import Definition, LocalText
from madoguchi.procedures.loader import DefinitionError, load_definition
from madoguchi.tenants import service as tenants

PREFIX = "/staff/bodies/{code}/procedures"
MAX_SOURCE_LENGTH = 200_000  # characters of YAML: far more than any real procedure needs
JAPANESE_RUN = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+")

Runs = list[tuple[str, str]]  # a text in pieces, each with its language


def language_runs(text: str) -> Runs:
    """The English and Japanese runs of a machine-written message, each marked with its
    language (WCAG 3.1.2): the reader's notes and the loader's problems quote Japanese labels."""
    runs: Runs = []
    position = 0
    for match in JAPANESE_RUN.finditer(text):
        if match.start() > position:
            runs.append((text[position : match.start()], "en"))
        runs.append((match.group(), "ja"))
        position = match.end()
    if position < len(text):
        runs.append((text[position:], "en"))
    return runs


@dataclass(frozen=True)
class ShownProblem:
    """A problem of a definition as staff read it: where, what, and the text of that line."""

    message: Runs
    path: str = ""
    line: int | None = None
    text: str = ""


@dataclass
class YamlForm:
    """The YAML being edited, as typed, with what is wrong with it."""

    source: str
    errors: FormErrors = field(default_factory=FormErrors)
    problems: list[ShownProblem] = field(default_factory=list)

    @property
    def invalid(self) -> bool:
        return bool(self.errors.items or self.problems)

    @classmethod
    def posted(cls, form: FormData) -> YamlForm:
        """The textarea's YAML with the browser's CRLF line ends made plain."""
        return cls(form_text(form, "source").replace("\r\n", "\n"))

    def checked(self, owner: str, slug: str | None) -> Definition | None:
        """The definition, or None with every problem noted here."""
        try:
            return check_definition(self.source, owner, slug)
        except DefinitionError as error:
            self.problems = shown_problems(self.source, error)
        except InvalidInput as error:
            self.errors.items.append(FormError.of(error, "#source"))
        return None


def check_definition(source: str, owner: str, slug: str | None) -> Definition:
    """Load the YAML and check it belongs here: this body's, and this procedure's when editing."""
    if not source.strip():
        raise InvalidInput("Enter the definition.", field="source")
    if len(source) > MAX_SOURCE_LENGTH:
        raise InvalidInput(
            "The definition is longer than {most} characters.",
            field="source",
            most=MAX_SOURCE_LENGTH,
        )
    definition = load_definition(source)
    if definition.owner != owner:
        raise InvalidInput(
            "The definition names {named} as its owner; these pages save it for {owner}.",
            field="source",
            named=definition.owner,
            owner=owner,
        )
    if slug is not None and definition.slug != slug:
        raise InvalidInput(
            "The definition's slug is {named}, but this page edits {slug}.",
            field="source",
            named=definition.slug,
            slug=slug,
        )
    return definition


def shown_problems(source: str, error: DefinitionError) -> list[ShownProblem]:
    lines = source.splitlines()

    def text_of(line: int | None) -> str:
        return lines[line - 1].strip() if line and line <= len(lines) else ""

    return [
        ShownProblem(
            language_runs(problem.message), problem.path, problem.line, text_of(problem.line)
        )
        for problem in error.problems
    ]


async def procedure_of(
    session: AsyncSession, code: str, slug: str
) -> tuple[tenants.Tenant, service.Procedure]:
    """The body in the path and its procedure: another body's procedure is not found."""
    tenant = await tenants.get_tenant(session, code)
    return tenant, await service.get_procedure(session, tenant.code, slug)


async def title_of(
    session: AsyncSession,
    procedure: service.Procedure,
    versions: Sequence[service.ProcedureVersion],
) -> LocalText:
    """The title of the latest version (what staff work on), or an adopter's current one."""
    if versions:
        return Definition.model_validate(versions[-1].definition).title
    return (await service.effective_definition(session, procedure)).title


def to_versions(code: str, slug: str, done: str, version: int) -> RedirectResponse:
    """After a change, the versions page says what was done (Post/Redirect/Get)."""
    target = f"/staff/bodies/{code}/procedures/{slug}/versions?done={done}&version={version}"
    return RedirectResponse(target, status_code=303)


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def local_time(moment: dt.datetime) -> str:
    """A stored moment as people in Japan read it: the date (with its era) and the time."""
    return format_moment(moment, current_language())
