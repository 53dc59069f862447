"""The logic engine: which pages and questions an applicant sees, where they go next, which answers
are kept and which are still missing. It runs on the server and is the single source of truth; a
browser may preview it, never decide.

Values are answers as the parsers produce them (str, int, bool, a decimal as str, a list of str, a
dict, an ISO date string, a list of dicts for a repeatable group) together with computed values.

Unanswered values. A value that is absent, None, blank, or an empty list or dict is *unknown*.
Three-valued logic is collapsed to two at the leaves: every comparison on an unknown value is
false, ``not_equals`` included, and ``not`` simply negates, so ``not: {answer: x, equals: 1}`` is
true while ``x`` is unanswered. Only ``answered`` looks at whether a value is known. So an author
writes ``not_equals`` for "answered, and something else", and ``not`` + ``equals`` for "anything
else, answered or not".

Values as known when reached. A page, question or skip is decided by the answers kept on the path
before it (and by computed values over those alone), never by later, hidden or skipped answers. So
answering a later page never changes an earlier decision, and pruning changes nothing it decided.
"""

from madoguchi.procedures.logic.computed import computed_values
from madoguchi.procedures.logic.conditions import Values, evaluate, is_answered
from madoguchi.procedures.logic.navigation import (
    End,
    Exit,
    NextPage,
    Step,
    next_step,
    path,
    prune,
    visible_pages,
    visible_questions,
)
from madoguchi.procedures.logic.required import missing_required

__all__ = [
    "End",
    "Exit",
    "NextPage",
    "Step",
    "Values",
    "computed_values",
    "evaluate",
    "is_answered",
    "missing_required",
    "next_step",
    "path",
    "prune",
    "visible_pages",
    "visible_questions",
]
