"""A question page: shown with what was typed or kept, checked when sent, and stored in the draft.

Sending a page does one of two things. A button that changes the form (find the address of a
postal code, add or remove an item of a group, remove a file) changes it and shows the page
again. "Continue" checks every answer shown: on a problem, or when the answers reveal questions
the page did not show yet, the page comes back with everything typed still in it, and what was
typed is sealed into the draft, so a restart or a closed tab loses nothing; when all is well, the
page's answers replace the ones kept before (answers to questions now hidden are dropped) and the
applicant goes on to the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_
from madoguchi.core.templating import render
from madoguchi.procedures.answers.places import AddressFound
from madoguchi.procedures.definition import Group, Guidance, Page, Question
from madoguchi.procedures.logic import missing_required, visible_questions
from madoguchi.procedures.validation import parse_given
from madoguchi.submissions.drafts import FormValues
from madoguchi.submissions.journey_forms import (
    ACTION,
    SHOWN,
    blank_items,
    list_of,
    question_at,
    raw_answers,
    remove_item,
    values_from_answers,
    values_from_form,
    without_my_numbers,
)
from madoguchi.submissions.journey_parsing import (
    Action,
    apply_action,
    fill_address,
    resolve_local_governments,
    take_uploads,
)
from madoguchi.submissions.journey_state import Journey
from madoguchi.submissions.journey_view import FormState, item_visibility, page_errors

NEW_QUESTIONS = N_("Your answers added questions to this page: answer them, then continue.")
MISSING = {
    "declaration": N_("Confirm the declaration to continue."),
    "file": N_("Attach a file."),
    "yes_no": N_("Choose yes or no."),
    "group": N_("Add the items this question needs: at least {least}."),
}


@dataclass
class PageCheck:
    answers: dict[str, Any]  # every answer kept, with this page's as sent
    problems: list[InvalidInput]
    new: list[str]  # questions shown now that the page had not shown


def show_page(journey: Journey, page: Page, *, returning: bool, missing: bool) -> Response:
    typed = journey.content.typed.get(page.id)
    kept = values_from_answers(page.questions, journey.content.answers)
    values = kept if typed is None else {**_saved_my_numbers(kept), **typed}
    problems = _missing(journey, page, journey.content.answers, _ids(page), []) if missing else []
    return render_page(journey, page, values, problems, returning=returning)


async def send_page(journey: Journey, page: Page, form: FormData, *, returning: bool) -> Response:
    kept = values_from_answers(page.questions, journey.content.answers)
    values = {**_saved_my_numbers(kept), **values_from_form(form)}
    problems = await take_uploads(form, page.questions, values, journey.context)
    problems += await resolve_local_governments(journey.session, page.questions, values)
    action = Action.parse(form.get(ACTION))
    if action.kind != "continue":
        if action.kind == "remove":
            _forget_item(journey, action.name, action.index)
        changed = apply_action(action, page.questions, values)
        problems += changed.problems
        _keep_typed(journey, page, values)
        status = 422 if problems else 200
        return render_page(
            journey, page, values, problems, returning=returning, towns=changed.towns, status=status
        )
    for name, index in blank_items(page.questions, values):
        _forget_item(journey, name, index)
        group = question_at(page.questions, name)
        if isinstance(group, Group):
            remove_item(group, values, name, index)
    return _continue(journey, page, values, problems, returning=returning)


def _continue(
    journey: Journey,
    page: Page,
    values: FormValues,
    problems: list[InvalidInput],
    *,
    returning: bool,
) -> Response:
    check = check_page(journey, page, values)
    problems += check.problems
    if problems or check.new:
        _keep_my_numbers(journey, page, check.answers, values)
        _prefill_found_addresses(problems, values)
        _keep_typed(journey, page, values)
        notice = NEW_QUESTIONS if check.new else None
        status = 422 if problems else 200
        return render_page(
            journey, page, values, problems, returning=returning, notice=notice, status=status
        )
    _accept(journey, page, check.answers)
    target, next_page = journey.after(page.id, returning=returning)
    journey.draft.current_page = next_page
    journey.save()
    return RedirectResponse(target, status_code=303)


def check_page(journey: Journey, page: Page, values: FormValues) -> PageCheck:
    """Parse the page's answers; keep those shown; find problems and questions newly shown."""
    raw = raw_answers(page.questions, values)
    parsed, problems = parse_given(
        page.questions, raw, earlier=journey.content.answers, context=journey.context
    )
    others = {k: v for k, v in journey.content.answers.items() if k not in _ids(page)}
    shown = _shown(journey, page, {**others, **parsed})
    problems = [p for p in problems if _top(p.field) in shown]
    answers = {**others, **{k: v for k, v in parsed.items() if k in shown}}
    rendered = set(list_of(values, SHOWN))
    new = [q for q in shown if rendered and q not in rendered]
    problems += _missing(journey, page, answers, shown - set(new), problems)
    return PageCheck(answers, problems, new)


def _shown(journey: Journey, page: Page, answers: dict[str, Any]) -> set[str]:
    values = journey.condition_values(answers)
    return {q.id for q in visible_questions(page, values) if not isinstance(q, Guidance)}


def _missing(
    journey: Journey,
    page: Page,
    answers: dict[str, Any],
    among: set[str],
    problems: list[InvalidInput],
) -> list[InvalidInput]:
    """ "Answer this question" for each required question among ``among`` left unanswered."""
    found = []
    for name in missing_required(journey.definition, answers, journey.today):
        if _top(name) in among and not any(_same(p.field, name) for p in problems):
            found.append(_missing_problem(question_at(page.questions, name), name))
    return found


def _missing_problem(question: Question | None, name: str) -> InvalidInput:
    kind = question.type if question is not None else ""
    if kind == "choice" and question is not None:
        return InvalidInput("Choose an option.", field=name)
    if isinstance(question, Group):
        return InvalidInput(MISSING["group"], field=name, least=question.min_items)
    return InvalidInput(MISSING.get(kind, N_("Answer this question.")), field=name)


def _accept(journey: Journey, page: Page, answers: dict[str, Any]) -> None:
    content = journey.content
    content.answers = journey.kept(answers)
    content.typed.pop(page.id, None)
    on_path = journey.path()
    content.visited = [p for p in content.visited if p in on_path and p != page.id] + [page.id]


def render_page(
    journey: Journey,
    page: Page,
    values: FormValues,
    problems: list[InvalidInput],
    *,
    returning: bool,
    notice: str | None = None,
    towns: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    raw = raw_answers(page.questions, values)
    preview, unparsed = parse_given(
        page.questions, raw, earlier=journey.content.answers, context=journey.context
    )
    others = {k: v for k, v in journey.content.answers.items() if k not in _ids(page)}
    conditions = journey.condition_values({**others, **preview})
    shown = visible_questions(page, conditions)
    if unparsed:  # an answer that does not parse decides nothing: what was shown stays shown
        before = set(list_of(values, SHOWN))
        shown = [q for q in page.questions if q in shown or q.id in before]
    values[SHOWN] = [q.id for q in shown if not isinstance(q, Guidance)]
    errors = page_errors(page.questions, problems)
    state = FormState(
        values,
        journey.context.store,
        errors.inline,
        towns or {},
        item_visibility(page.questions, preview, conditions),
    )
    html = render(
        "submissions/page.html",
        request=journey.request,
        journey=journey,
        page=page,
        questions=shown,
        form=state,
        errors=errors.summary,
        notice=notice,
        returning=returning,
        back_url=journey.back_url(page.id, returning=returning),
        action_url=journey.page_url(page.id, returning=returning),
    )
    return HTMLResponse(html, status_code=status)


# --- Keeping what was typed -----------------------------------------------------------------------


def _keep_typed(journey: Journey, page: Page, values: FormValues) -> None:
    kept = without_my_numbers(page.questions, values)
    journey.content.typed[page.id] = {k: v for k, v in kept.items() if not k.endswith(".last4")}
    journey.save()


def _keep_my_numbers(
    journey: Journey, page: Page, answers: dict[str, Any], values: FormValues
) -> None:
    """A My Number that passed is kept even when the page did not: it is never typed back into
    the form, so it is kept as its parser made it (encrypted) and shown masked. (In a group item,
    one is typed again.)"""
    for question in page.questions:
        value = answers.get(question.id)
        if question.type == "my_number" and isinstance(value, dict):
            journey.content.answers[question.id] = value
            values.pop(question.id, None)
            values[f"{question.id}.last4"] = str(value.get("last4", ""))


def _saved_my_numbers(values: FormValues) -> FormValues:
    return {key: value for key, value in values.items() if key.endswith(".last4")}


def _prefill_found_addresses(problems: list[InvalidInput], values: FormValues) -> None:
    """Only a postal code was given: fill in what it tells (the parser's ``AddressFound``)."""
    for problem in problems:
        if isinstance(problem, AddressFound) and problem.field:
            fill_address(problem.field.removesuffix(".street"), problem.prefill, values)


def _forget_item(journey: Journey, name: str, index: int) -> None:
    """Remove item ``index`` of a group from the answers kept too, so that what is kept of each
    item (a saved My Number) stays with the item shown in its place."""
    items = journey.content.answers.get(name)
    if "[" not in name and isinstance(items, list) and 0 <= index < len(items):
        del items[index]


def _ids(page: Page) -> set[str]:
    return {question.id for question in page.questions}


def _top(field: str | None) -> str:
    return (field or "").split(".")[0].split("[")[0]


def _same(field: str | None, name: str) -> bool:
    return field is not None and (field == name or field.startswith((name + ".", name + "[")))
