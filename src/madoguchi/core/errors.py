"""One hierarchy for every expected failure.

Each error has a stable ``code`` (it becomes the problem type URI), an HTTP status and a message
that is a translatable template. Routes turn them into RFC 9457 problem+json or a friendly page;
an expected failure is never a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar

from madoguchi.core.i18n import N_


class MadoguchiError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = N_("The request could not be completed")
    headers: ClassVar[dict[str, str]] = {}  # added to the error response (a 401's challenge)
    # Shown to the public instead of the message, when the message is for operators only (it
    # names configuration): the message itself still goes to the log.
    public_message: ClassVar[str | None] = None

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.field = field
        self.params = params

    @property
    def type_uri(self) -> str:
        return f"https://madoguchi.jp/problems/{self.code}"


class InvalidInput(MadoguchiError):
    code = "invalid-input"
    status = 422
    title = N_("The input is not valid")


class NotFound(MadoguchiError):
    code = "not-found"
    status = 404
    title = N_("Not found")


class ServiceUnavailable(MadoguchiError):
    code = "service-unavailable"
    status = 503
    title = N_("The service is temporarily unavailable")


class InvalidInputs(InvalidInput):
    """Several problems found at once (a whole form or submission), each about its own field.

    Its own message is the only problem's, or says how many there are.
    """

    def __init__(self, problems: list[InvalidInput]) -> None:
        if len(problems) == 1:
            super().__init__(problems[0].message, **problems[0].params)
        else:
            super().__init__(N_("{count} answers need attention."), count=len(problems))
        self.problems = problems
