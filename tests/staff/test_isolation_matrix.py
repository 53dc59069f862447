"""The generated isolation matrix: every route under /staff and /api/v1 × every role of 札幌市
(and nobody) × objects of 函館市.

The routes come from the application itself, so a route added later is in the matrix at once;
one whose path has a parameter the matrix cannot fill fails the test until it is taught here.
Each request must be refused (sign-in, 401, 403 or 404; a 200 only for 札幌市's own pages that
name no object) and no answer may hold one byte of 函館市's data: markers placed in its
submission's answers and attachment name, its draft's title, its webhook's address and secret.
Public API routes are public by design; they must still never show 函館市's private data.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from madoguchi.apps.approval import service as approvals
from madoguchi.core import tenancy
from madoguchi.core.files import FileStore
from madoguchi.core.reference_numbers import new_reference
from madoguchi.core.settings import Settings
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.procedures import service as procedures
from madoguchi.submissions import webhooks
from madoguchi.submissions.models import Webhook
from madoguchi.tenants import service as tenants
from tests.apps.approval.support import draft_pdf, member
from tests.staff.support import token
from tests.submissions.export_support import committed
from tests.support.notices import NOTICE, publish_notice, submit_notice
from tests.support.officials import make_official, make_platform_administrator
from tests.support.people import make_person, signed_in
from tests.support.samples import PDF

SAPPORO, HAKODATE = "011002", "012025"
SECRET = "HKD-SECRET-q7z3"  # in 函館市's answers, file name, draft title and webhook address
PUBLIC_TITLE = "HKD-PUBLIC-TITLE"  # 函館市's published title: public, but not on 札幌市's pages
OWN = "SPR-OWN-k2m8"  # in 札幌市's own submission
ROLES = ["nobody", "resident", *(role.value for role in OfficialRole)]

# Routes public by design: anyone may call them (the tenants and procedures catalogues, the
# submission API, a submission's status by its id, the invitation link whose token is the key).
PUBLIC = {
    ("GET", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{code}"),
    ("GET", "/api/v1/postal-codes/{postal_code}"),
    ("GET", "/api/v1/procedures"),
    ("GET", "/api/v1/procedures/{procedure_id}/versions/{version}/schema.json"),
    ("GET", "/api/v1/procedures/{procedure_id}/schema.json"),
    ("POST", "/api/v1/procedures/{procedure_id}/submissions"),
    ("POST", "/api/v1/procedures/{procedure_id}/files"),
    ("GET", "/api/v1/submissions/{submission_id}"),
    ("POST", "/api/v1/procedures/{procedure_id}/signing-payload"),
    ("POST", "/api/v1/verify"),  # verification is for anyone
    ("GET", "/api/v1/verify/{reference}"),
    ("GET", "/staff/invitations/{token}"),
    ("POST", "/staff/invitations/{token}"),
}
# Parameters that name an object: a route with one must never answer 2xx for 札幌市's officials.
OBJECT_PARAMETERS = {
    "slug",
    "submission_id",
    "sha256",
    "version",
    "person_id",
    "procedure_id",
    "document_id",
}


@dataclass(frozen=True)
class Hakodate:
    """函館市's objects, which 札幌市's officials try to reach."""

    tenant_id: uuid.UUID
    procedure_id: uuid.UUID
    slug: str
    submission_id: uuid.UUID
    sha256: str
    webhook_id: uuid.UUID
    webhook_secret: str
    official: uuid.UUID
    approval_id: uuid.UUID

    def parameters(self) -> dict[str, str]:
        return {
            "slug": self.slug,
            "submission_id": str(self.submission_id),
            "sha256": self.sha256,
            "version": "1",
            "procedure_id": str(self.procedure_id),
            "person_id": str(self.official),
            "token": f"{HAKODATE}.{'A' * 43}",
            "postal_code": "0400001",
            "document_id": str(self.approval_id),
            "reference": new_reference(),  # none: a sealed document's page is public anyway
        }

    def markers(self, public: bool) -> list[str]:
        found = [SECRET, self.webhook_secret]
        return found if public else [*found, PUBLIC_TITLE]


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    path: str
    code: str | None

    @property
    def public(self) -> bool:
        return (self.method, self.template) in PUBLIC

    @property
    def names_an_object(self) -> bool:
        return any("{" + name + "}" in self.template for name in OBJECT_PARAMETERS)


def routes_to_check(app: FastAPI) -> list[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        if route.path.startswith(("/staff", "/api/v1")):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, route.path))
    return sorted(found)


def calls(app: FastAPI, hakodate: Hakodate) -> Iterator[Call]:
    known = hakodate.parameters()
    unknown = []
    for method, template in routes_to_check(app):
        names = set(re.findall(r"{(\w+)}", template)) - {"code"}
        if names - known.keys():
            unknown.append(f"{method} {template}: {sorted(names - known.keys())}")
            continue
        path = template
        for name in names:
            path = path.replace("{" + name + "}", known[name])
        codes = [SAPPORO, HAKODATE] if "{code}" in template else [None]
        for code in codes:
            yield Call(method, template, path.replace("{code}", code or ""), code)
    assert not unknown, f"the matrix cannot fill these routes' paths; teach it: {unknown}"


async def _hakodate(
    database_url: str, store: FileStore, settings: Settings, official: uuid.UUID
) -> Hakodate:
    slug = "hakodate-notice"
    procedure = await publish_notice(HAKODATE, slug, f"函館市の届出 {PUBLIC_TITLE}", database_url)
    submission_id, sha256 = await submit_notice(
        database_url, store, HAKODATE, slug, f"函館の秘密 {SECRET}", f"{SECRET}.pdf"
    )
    async with committed(database_url) as session:
        await tenancy.enter_platform(session, "test set-up")
        draft = NOTICE.format(slug=slug, owner=HAKODATE, title=f"次の版 {SECRET}")
        await procedures.save_draft(session, HAKODATE, draft)
        tenant = await tenants.get_tenant(session, HAKODATE)
        hook, secret = await webhooks.create_webhook(
            session, tenant.id, f"https://hooks.example.jp/{SECRET}", settings
        )
        drafter = await member(session, HAKODATE, OfficialRole.CASEWORKER, "函館 二郎")
        route = [OfficialRole.SUPERVISOR]
        approval = await approvals.do_draft(
            session, settings, drafter, f"起案 {SECRET}", draft_pdf(), f"{SECRET}.pdf", route
        )
    return Hakodate(
        procedure.tenant_id,
        procedure.id,
        slug,
        submission_id,
        sha256,
        hook.id,
        secret,
        official,
        approval.id,
    )


@pytest.fixture
def hakodate(database_url: str, settings: Settings) -> Hakodate:
    store = FileStore.from_settings(settings)
    official = make_official(database_url, HAKODATE, OfficialRole.ADMINISTRATOR, name="函館 一郎")
    return asyncio.run(_hakodate(database_url, store, settings, official))


def sign_in_as(client: TestClient, database_url: str, role: str) -> str:
    """The form token of the session (a real one, so a refusal is never about the token)."""
    if role == "nobody":
        return token(client, "/sign-in")
    person = make_person(database_url, f"札幌 {role}")
    if role != "resident":
        make_official(database_url, SAPPORO, role, person_id=person)
    return signed_in(client, database_url, person)


def request(client: TestClient, call: Call, hakodate: Hakodate, csrf: str) -> tuple[int, str, str]:
    fields = {
        "csrf_token": csrf,
        "tenant_id": str(hakodate.tenant_id),
        "tenant": HAKODATE,
        "code": HAKODATE,
        "action": "deactivate",
        "webhook": str(hakodate.webhook_id),
        "person_id": str(hakodate.official),
        "owner": HAKODATE,
        "role": "administrator",
        "email": "matrix@example.jp",
        "step": "upload",
        "purpose": "social_security",
        "reason": "matrix",
    }
    if call.method == "GET":
        response = client.get(call.path, follow_redirects=False)
    elif call.template.startswith("/api/"):
        response = client.request(call.method, call.path, json=fields, follow_redirects=False)
    else:
        response = client.request(call.method, call.path, data=fields, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


def check(call: Call, role: str, status: int, location: str) -> str | None:
    """What is wrong with the answer to ``call`` for ``role``, if anything."""
    if call.public:
        return None if status < 500 else "a public route failed"
    if role == "nobody":
        expected = 401 if call.template.startswith("/api/") else 303
        good = status == expected and (status == 401 or location.startswith("/sign-in?next="))
        return None if good else f"nobody signed in got {status} {location}"
    if call.code == HAKODATE or role == "resident":
        return None if status == 403 else f"expected 403, got {status}"
    if call.names_an_object:
        return None if status in (403, 404) else f"an object of 函館市 answered {status}"
    if status in (200, 403, 404, 422):  # 札幌市's own page, or a refusal
        return None
    if status == 303 and location.startswith(f"/staff/bodies/{SAPPORO}"):
        return None
    return f"unexpected {status} {location}"


@pytest.mark.parametrize("role", ROLES)
def test_no_route_reaches_another_body_s_data(
    app: FastAPI, client: TestClient, database_url: str, hakodate: Hakodate, role: str
) -> None:
    csrf = sign_in_as(client, database_url, role)
    problems = []
    checked = 0
    for call in calls(app, hakodate):
        status, location, body = request(client, call, hakodate, csrf)
        checked += 1
        if problem := check(call, role, status, location):
            problems.append(f"{call.method} {call.path}: {problem}")
        leaked = [marker for marker in hakodate.markers(call.public) if marker in body]
        if leaked:
            problems.append(f"{call.method} {call.path}: 函館市's data in the answer: {leaked}")
    assert checked > 40  # every staff and API route, with both bodies' codes
    assert problems == [], "\n".join(problems)
    asyncio.run(_hakodate_unchanged(database_url, hakodate))


async def _hakodate_unchanged(database_url: str, hakodate: Hakodate) -> None:
    async with committed(database_url) as session:
        await tenancy.enter_platform(session, "test check")
        hook = await session.get(Webhook, (hakodate.tenant_id, hakodate.webhook_id))
        assert hook is not None and hook.active
        procedure = await procedures.get_procedure(session, HAKODATE, hakodate.slug)
        assert procedure.current_version == 1
        versions = await procedures.list_versions(session, procedure)
        assert [v.status for v in versions] == ["published", "draft"]


def test_the_matrix_knows_every_route(app: FastAPI) -> None:
    """Every route the matrix is about is one of the app's, and the public list is not stale."""
    routes = set(routes_to_check(app))
    assert routes >= PUBLIC, PUBLIC - routes
    assert any(path.startswith("/staff/bodies/{code}") for _, path in routes)


def test_a_sapporo_caseworker_sees_sapporo_s_submissions(
    client: TestClient, database_url: str, settings: Settings, hakodate: Hakodate
) -> None:
    store = FileStore.from_settings(settings)
    asyncio.run(publish_notice(SAPPORO, "sapporo-notice", "札幌市の届出", database_url))
    submission_id, sha256 = asyncio.run(
        submit_notice(database_url, store, SAPPORO, "sapporo-notice", f"札幌 {OWN}", "own.pdf")
    )
    sign_in_as(client, database_url, "caseworker")
    base = f"/staff/bodies/{SAPPORO}"
    listing = client.get(f"{base}/procedures/sapporo-notice/submissions")
    assert listing.status_code == 200 and OWN in listing.text
    one = client.get(f"{base}/submissions/{submission_id}")
    assert one.status_code == 200 and OWN in one.text
    assert client.get(f"{base}/submissions/{submission_id}/files/{sha256}").content == PDF
    export = client.get(f"{base}/procedures/sapporo-notice/submissions.csv")
    assert export.status_code == 200 and OWN in export.text
    for page in (listing, one, export):
        assert SECRET not in page.text and PUBLIC_TITLE not in page.text


def test_a_platform_administrator_reaches_every_body(
    client: TestClient, database_url: str, hakodate: Hakodate
) -> None:
    signed_in(client, database_url, make_platform_administrator(database_url))
    page = client.get(f"/staff/bodies/{HAKODATE}/submissions/{hakodate.submission_id}")
    assert page.status_code == 200 and SECRET in page.text


def test_the_api_shows_a_submission_s_status_never_its_answers(
    client: TestClient, database_url: str, hakodate: Hakodate
) -> None:
    answer = client.get(f"/api/v1/submissions/{hakodate.submission_id}")
    assert SECRET not in answer.text
    assert "note" not in answer.json() and "answers" not in answer.json()
