"""HTML pages of the tenants domain: a page for each public body, browsing, postal lookup.

Pages take their query parameters as plain text and check them here, so that a bad value is
answered with the form again: the problem in an error summary and beside its field, and what the
person typed still in the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.i18n import _, ngettext
from madoguchi.core.templating import render
from madoguchi.core.text import fold_width
from madoguchi.tenants import service
from madoguchi.tenants.models import TenantKind

router = APIRouter(include_in_schema=False)

SEARCH_PAGE_SIZE = 50
MAX_PAGE = service.MAX_OFFSET // SEARCH_PAGE_SIZE
MAX_TEXT_LENGTH = 100
PAGE_WINDOW = 2  # page links shown either side of the current page

T = TypeVar("T")


@dataclass(frozen=True)
class FormError:
    """A problem shown in the error summary and, when it is about a field, beside that field."""

    message: str
    field: str | None = None
    href: str | None = None  # where the summary links to: the field, or a page that helps

    @classmethod
    def of(cls, error: MadoguchiError, href: str | None = None) -> FormError:
        anchor = f"#{error.field}" if error.field else None
        return cls(_(error.message, **error.params), error.field, href or anchor)


@dataclass
class FormErrors:
    items: list[FormError] = field(default_factory=list)

    def attempt(self, check: Callable[[], T], href: str | None = None) -> T | None:
        """The check's result, or None with its error noted (linked to href, or its field)."""
        try:
            return check()
        except InvalidInput as error:
            self.items.append(FormError.of(error, href))
            return None

    @property
    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.items if e.field}


@dataclass(frozen=True)
class SearchForm:
    """What was typed into the search form, kept as typed."""

    q: str = ""
    kind: str = ""
    prefecture: str = ""
    page: str = "1"

    def query(self, page: int = 1) -> str:
        """This search's query string for a link: every filter kept, only the page changed."""
        values = {"q": self.q, "kind": self.kind, "prefecture": self.prefecture}
        pairs = {name: value for name, value in values.items() if value}
        return urlencode(pairs | ({"page": str(page)} if page > 1 else {}))


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    numbers: list[int | None]  # None marks a gap between page numbers


@dataclass
class SearchView:
    errors: FormErrors
    result: service.TenantPage | None = None
    pagination: Pagination | None = None


@router.get("/bodies", response_class=HTMLResponse)
async def search_page(
    request: Request,
    session: Session,
    q: str = "",
    kind: str = "",
    prefecture: str = "",
    page: str = "1",
) -> HTMLResponse:
    """Search by name, kana or code; with no words, lists every body page by page."""
    form = SearchForm(q=q, kind=kind, prefecture=prefecture, page=page)
    prefectures = await service.list_prefectures(session)
    view = await _search(session, form, prefectures)
    html = render(
        "tenants/search.html",
        request=request,
        form=form,
        view=view,
        kinds=list(TenantKind),
        prefectures={item.prefecture.prefecture_code: item.prefecture for item in prefectures},
    )
    return HTMLResponse(html, status_code=422 if view.errors.items else 200)


async def _search(
    session: AsyncSession, form: SearchForm, prefectures: Sequence[service.PrefectureCount]
) -> SearchView:
    errors = FormErrors()
    known = {item.prefecture.prefecture_code or "": item.prefecture.code for item in prefectures}
    errors.attempt(lambda: check_length(form.q, "q"))
    kind = errors.attempt(lambda: check_kind(form.kind))
    prefecture = errors.attempt(lambda: check_prefecture(form.prefecture, known))
    page = errors.attempt(lambda: check_page(form.page), href="/bodies?" + form.query())
    if errors.items or page is None:
        return SearchView(errors)
    result = await service.list_tenants(
        session,
        q=form.q,
        kind=kind,
        prefecture=prefecture,
        limit=SEARCH_PAGE_SIZE,
        offset=(page - 1) * SEARCH_PAGE_SIZE,
    )
    pages = max(1, math.ceil(result.total / SEARCH_PAGE_SIZE))
    if page > pages:
        errors.items.append(_no_such_page(form, page, pages))
        return SearchView(errors)
    return SearchView(errors, result, Pagination(page, pages, page_numbers(page, pages)))


def check_length(value: str, field: str) -> str:
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput("Enter at most {most} characters.", field=field, most=MAX_TEXT_LENGTH)
    return value


def check_kind(value: str) -> str | None:
    if not value:
        return None
    if value not in set(TenantKind):
        raise InvalidInput(
            "There is no kind of public body called “{value}”. Choose one from the list.",
            field="kind",
            value=value,
        )
    return value


def check_prefecture(value: str, known: dict[str, str]) -> str | None:
    """The 2-digit code of a prefecture given by its 2-digit or its 6-digit code."""
    text = fold_width(value).strip()
    if not text:
        return None
    for short, full in known.items():
        if text in (short, full):
            return short
    raise InvalidInput(
        "There is no prefecture with the code {value}. Choose one from the list.",
        field="prefecture",
        value=value,
    )


def check_page(value: str) -> int:
    text = fold_width(value).strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PAGE:
        return int(text)
    raise InvalidInput(
        "The page number must be a whole number from 1 to {most}.", field="page", most=MAX_PAGE
    )


def _no_such_page(form: SearchForm, page: int, pages: int) -> FormError:
    message = ngettext(
        "There is no page {page}: the results fill only {n} page.",
        "There is no page {page}: the results fill only {n} pages.",
        pages,
        page=page,
    )
    return FormError(message, href="/bodies?" + form.query(pages))


def page_numbers(page: int, pages: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 36: the first and last pages and a window round the current one."""
    window = range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1)
    numbers: list[int | None] = []
    previous = 0
    for number in sorted({1, pages, *window}):
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


@router.get("/bodies/{code}", response_class=HTMLResponse)
async def tenant_page(request: Request, code: str, session: Session) -> Response:
    """One public body; a code typed another way (5 digits, full width) redirects to its page."""
    tenant = await service.get_tenant(session, code)
    if tenant.code != code:
        return RedirectResponse(f"/bodies/{tenant.code}", status_code=308)
    related = await _related(session, tenant)
    return HTMLResponse(render("tenants/show.html", request=request, tenant=tenant, **related))


async def _related(session: AsyncSession, tenant: service.Tenant) -> dict[str, Any]:
    kind = TenantKind(tenant.kind)
    return {
        "prefecture": await _prefecture_of(session, tenant),
        "parent": (
            await service.get_tenant(session, tenant.parent_code) if tenant.parent_code else None
        ),
        "municipalities": (
            await service.list_municipalities(session, tenant)
            if kind == TenantKind.PREFECTURE
            else []
        ),
        "wards": await service.list_wards(session, tenant),
        "agencies": await _agencies_of(session, tenant) if kind == TenantKind.MINISTRY else [],
    }


async def _prefecture_of(session: AsyncSession, tenant: service.Tenant) -> service.Tenant | None:
    if not tenant.prefecture_code or tenant.kind == TenantKind.PREFECTURE:
        return None
    return await service.get_tenant(session, tenant.prefecture_code + "000")


async def _agencies_of(session: AsyncSession, ministry: service.Tenant) -> list[service.Tenant]:
    agencies = await service.list_all_tenants(session, kind=TenantKind.AGENCY.value)
    return [agency for agency in agencies if agency.parent_code == ministry.code]


@router.get("/prefectures", response_class=HTMLResponse)
async def prefectures_page(request: Request, session: Session) -> HTMLResponse:
    html = render(
        "tenants/prefectures.html",
        request=request,
        prefectures=await service.list_prefectures(session),
    )
    return HTMLResponse(html)


@router.get("/postal-codes", response_class=HTMLResponse)
async def postal_page(request: Request, postal_code: str | None = None) -> HTMLResponse:
    """Postal code lookup by a plain GET form; errors are shown beside the field, input kept."""
    result, errors, status = None, FormErrors(), 200
    if postal_code is not None:
        try:
            result = service.lookup_postal_code(check_postal_code(postal_code))
        except MadoguchiError as failure:
            errors.items.append(FormError.of(failure))
            status = failure.status
    html = render(
        "tenants/postal.html",
        request=request,
        postal_code=postal_code or "",
        result=result,
        errors=errors,
    )
    return HTMLResponse(html, status_code=status)


def check_postal_code(value: str) -> str:
    if not value.strip():
        raise InvalidInput("Enter a postal code.", field="postal_code")
    return check_length(value, "postal_code")
