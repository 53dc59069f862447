"""HTML pages of the tenants domain: a page for each public body, browsing, postal lookup.

Pages take their query parameters as plain text and check them here, so that a bad value is
answered with the form again: the problem in an error summary and beside its field, and what the
person typed still in the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.dependencies import Session
from madoguchi.core.errors import InvalidInput, MadoguchiError
from madoguchi.core.forms import (
    FormError,
    FormErrors,
    Pagination,
    check_length,
    page_numbers,
    parse_page_number,
)
from madoguchi.core.i18n import ngettext
from madoguchi.core.templating import render
from madoguchi.core.text import fold_width
from madoguchi.tenants import service
from madoguchi.tenants.models import TenantKind

router = APIRouter(include_in_schema=False)

SEARCH_PAGE_SIZE = 50
MAX_PAGE = service.MAX_OFFSET // SEARCH_PAGE_SIZE


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
    page = errors.attempt(
        lambda: parse_page_number(form.page, MAX_PAGE), href="/bodies?" + form.query()
    )
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


def _no_such_page(form: SearchForm, page: int, pages: int) -> FormError:
    message = ngettext(
        "There is no page {page}: the results fill only {n} page.",
        "There is no page {page}: the results fill only {n} pages.",
        pages,
        page=page,
    )
    return FormError(message, href="/bodies?" + form.query(pages))


@router.get("/bodies/{code}", response_class=HTMLResponse)
async def tenant_page(request: Request, code: str, session: Session) -> Response:
    """One public body; a code typed another way (5 digits, full width) redirects to its page."""
    tenant = await service.get_tenant(session, code)
    if tenant.code != code:
        return RedirectResponse(f"/bodies/{tenant.code}", status_code=308)
    related = await _related(session, tenant)
    offerings = [
        offering
        for provider in getattr(request.app.state, "offerings", [])
        for offering in await provider(session, tenant)
    ]
    html = render(
        "tenants/show.html", request=request, tenant=tenant, offerings=offerings, **related
    )
    return HTMLResponse(html)


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
