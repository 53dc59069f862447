"""Jinja2 templates for every domain's pages, with the current language's translations."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from madoguchi.core import i18n
from madoguchi.core.sessions import csrf_token

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        _=i18n._,
        ngettext=i18n.ngettext,
        current_language=i18n.current_language,
        csrf_token=csrf_token,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
