"""A verdict in plain words, in the current language: one wording for the verification page,
the API's ``summary`` members and the ``madoguchi verify`` command.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from madoguchi.core.clock import format_moment
from madoguchi.core.i18n import _, current_language
from madoguchi.signatures.verification import (
    EXPIRED_THEN,
    REVOKED_THEN,
    UNTRUSTED,
    Problem,
    SignatureCheck,
    Verdict,
)

CERTIFICATE_PROBLEMS = {REVOKED_THEN, EXPIRED_THEN, UNTRUSTED}


@dataclass(frozen=True)
class SignatureWords:
    who: str
    when: str
    unchanged: str
    status_then: str
    status_now: str
    problems: list[str]
    valid: bool


def headline(verdict: Verdict) -> str:
    if not verdict.valid:
        return _("Not valid: this document cannot be trusted as it is.")
    if len(verdict.signatures) == 1:
        return _("Valid: the document's signature or seal checks out.")
    return _(
        "Valid: all {count} signatures and seals on this document check out.",
        count=len(verdict.signatures),
    )


def problem_text(problem: Problem) -> str:
    return _(problem.message, **problem.params)


def file_problems(verdict: Verdict) -> list[str]:
    return [problem_text(problem) for problem in verdict.problems]


def describe(check: SignatureCheck) -> SignatureWords:
    return SignatureWords(
        who=_who(check),
        when=_when(check),
        unchanged=_unchanged(check),
        status_then=_status_then(check),
        status_now=_status_now(check),
        problems=[problem_text(problem) for problem in check.problems],
        valid=check.valid,
    )


def moment_text(moment: dt.datetime) -> str:
    return format_moment(moment, current_language())


def _who(check: SignatureCheck) -> str:
    if check.organisation and check.organisation != check.signer:
        return _("{name} ({organisation})", name=check.signer, organisation=check.organisation)
    return check.signer or _("unknown signer")


def _when(check: SignatureCheck) -> str:
    if check.signed_at is not None:
        return _("{time}, by a trusted timestamp", time=moment_text(check.signed_at))
    if check.stated_at is not None:
        return _(
            "{time}, as the signer's computer stated it (no trusted timestamp)",
            time=moment_text(check.stated_at),
        )
    return _("not known")


def _unchanged(check: SignatureCheck) -> str:
    if not check.intact:
        return _("No: the signed content was altered.")
    if not check.unchanged_after:
        return _("No: content was added or changed after signing.")
    return _("Yes: nothing was changed after signing.")


def _status_then(check: SignatureCheck) -> str:
    if any(problem.message in CERTIFICATE_PROBLEMS for problem in check.problems):
        return _("Not valid: see the reasons.")
    if check.valid:
        return _("Valid and not revoked when it was used.")
    return _("No problem found with the certificate: the reasons are about the document.")


def _status_now(check: SignatureCheck) -> str:
    if check.revoked_since is not None:
        return _(
            "Revoked since {time}, after the signature: the signature stays valid.",
            time=moment_text(check.revoked_since),
        )
    if check.expired_since is not None:
        return _(
            "Expired since {time}, after the signature: the signature stays valid.",
            time=moment_text(check.expired_since),
        )
    return _("Valid and not revoked today.")
