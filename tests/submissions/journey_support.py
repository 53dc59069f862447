"""A small form-filling "browser" for journey tests: it reads a page's form as a browser without
JavaScript would send it, lets a test type into fields by name, and presses a button."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.html import Element, Page

FileField = tuple[str, tuple[str, bytes, str]]


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text

    def button(self, value: str) -> tuple[str, str]:
        for name, each, _text in self.buttons:
            if each == value:
                return name, each
        raise AssertionError(f"no button {value!r} among {[b[1] for b in self.buttons]}")


def form_of(page: Page, action_ends: str = "") -> Form:
    """The form whose action ends with ``action_ends`` (the last such form on the page)."""
    forms = [f for f in page.find_all("form") if f.attrs.get("action", "").endswith(action_ends)]
    assert forms, f"no form posting to …{action_ends}"
    element = forms[-1]
    form = Form(element.attrs["action"])
    for control in element.iter():
        _read_control(control, form)
    return form


def _read_control(control: Element, form: Form) -> None:
    name = control.attrs.get("name")
    kind = control.attrs.get("type", "text")
    if control.tag == "button" and "hidden" not in control.attrs:
        form.buttons.append((name or "", control.attrs.get("value", ""), control.text))
    if not name or control.tag == "button":
        return
    if control.tag == "input" and kind in ("submit", "file"):
        return
    if control.tag == "input" and kind in ("radio", "checkbox"):
        if "checked" in control.attrs:
            form.fields.setdefault(name, []).append(control.attrs.get("value", "on"))
        return
    if control.tag == "select":
        options = control.find_all("option")
        chosen = [o for o in options if "selected" in o.attrs] or options[:1]
        form.fields.setdefault(name, []).append(chosen[0].attrs.get("value", ""))
        return
    if control.tag == "textarea":
        form.fields.setdefault(name, []).append(_raw(control).removeprefix("\n"))
        return
    if control.tag == "input":
        form.fields.setdefault(name, []).append(control.attrs.get("value", ""))


def _raw(element: Element) -> str:
    return "".join(c if isinstance(c, str) else _raw(c) for c in element.children)


def send(
    client: TestClient,
    page: Page,
    typed: Mapping[str, str | list[str] | None] | None = None,
    *,
    button: str | None = None,
    files: list[FileField] | None = None,
    action_ends: str = "",
) -> tuple[Response, Page]:
    """Fill the page's form (``None`` unchecks or clears) and press the button with that value
    (by default "continue", or the form's only button)."""
    form = form_of(page, action_ends)
    fields = dict(form.fields)
    for name, value in (typed or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value if isinstance(value, list) else [value]
    values = [each for _name, each, _text in form.buttons]
    if button is not None or "continue" in values:
        name, value = form.button(button or "continue")
        fields[name] = [value]
    response = client.post(form.action, data=fields, files=files or None)
    return response, Page(response.text)


def field_value(page: Page, name: str) -> str:
    return form_of(page).fields.get(name, [""])[0]


def error_summary(page: Page) -> list[str]:
    summary = page.find_all("div", class_="error-summary")
    return [li.text for li in summary[0].find_all("li")] if summary else []


def inline_errors(page: Page) -> dict[str, str]:
    """The message shown beside each field, by field name (the id without ``-error``)."""
    found = {}
    for element in page.find_all("p", class_="error-message"):
        found[element.attrs["id"].removesuffix("-error")] = element.text.removeprefix("Error: ")
    return found


def answers_shown(page: Page) -> dict[str, str]:
    """Check-your-answers and receipts: each answer's text by its label (groups' items nested)."""
    rows = [e for e in page.find_all("div") if "answer-row" in e.attrs.get("class", "").split()]
    return {row.find("dt").text: row.find("dd").text for row in rows}
