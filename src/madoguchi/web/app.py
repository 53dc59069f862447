"""The application factory: one ASGI app serving the portal, the API and the health checks."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from madoguchi import __version__, migrations
from madoguchi.apps.approval import pages as approval_pages
from madoguchi.core import tenancy
from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.dependencies import no_nul_characters
from madoguchi.core.logs import configure_logging
from madoguchi.core.my_number_keys import key_ring
from madoguchi.core.settings import Settings, get_settings
from madoguchi.core.templating import STATIC_DIR
from madoguchi.identity import (
    account_pages,
    card_sign_in,
    official_pages,
    organisation_pages,
    passkey_pages,
)
from madoguchi.identity import pages as identity_pages
from madoguchi.identity.card_simulator import endpoints as card_simulator_endpoints
from madoguchi.identity.card_simulator import pages as card_simulator_pages
from madoguchi.identity.card_simulator import sign_pages as card_simulator_sign_pages
from madoguchi.identity.provider import authorize as provider_authorize
from madoguchi.identity.provider import routes as provider_routes
from madoguchi.identity.sessions import ServerSessions
from madoguchi.notifications import mail
from madoguchi.procedures import api as procedures_api
from madoguchi.procedures import pages as procedures_pages
from madoguchi.procedures import staff_pages as procedures_staff_pages
from madoguchi.signatures import api as signatures_api
from madoguchi.signatures import endpoints as signature_endpoints
from madoguchi.signatures import pages as signatures_pages
from madoguchi.submissions import api as submissions_api
from madoguchi.submissions import export_pages, journey, my_pages, receipt_pages, resume
from madoguchi.submissions import signing_pages as submission_signing_pages
from madoguchi.submissions import staff_pages as submissions_staff_pages
from madoguchi.tenants import api as tenants_api
from madoguchi.tenants import pages as tenants_pages
from madoguchi.web import api_docs, errors, health, pages
from madoguchi.web.background import BackgroundJobs
from madoguchi.web.middleware import LanguageMiddleware, SecurityHeadersMiddleware

API_DESCRIPTION = (
    "The public API of madoguchi (窓口), the platform on which every public body in Japan runs "
    "its procedures online. Errors are RFC 9457 problem+json documents with a stable `code`."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    if settings.is_production:
        key_ring(settings)  # refuse to start without a readable 0600 My Number key file
    app = FastAPI(
        title="madoguchi API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        dependencies=[Depends(no_nul_characters)],
    )
    app.state.settings = settings
    app.state.offerings = [procedures_pages.offerings]  # shown on each body's page
    # identity sits below notifications in the layers, so it is handed the sender
    app.state.send_email = mail.send_template
    errors.install(app)
    app.add_middleware(LanguageMiddleware, default=settings.default_language)
    app.add_middleware(ServerSessions, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    for router in (
        health.router,
        pages.router,
        tenants_pages.router,
        tenants_api.router,
        procedures_pages.router,
        procedures_api.router,
        journey.router,
        submission_signing_pages.router,
        receipt_pages.router,
        passkey_pages.router,  # before identity_pages: /sign-in/passkey is not a link token
        card_sign_in.router,  # before identity_pages: /sign-in/{token} would match /sign-in/card/…
        card_simulator_endpoints.router,
        card_simulator_pages.router,
        card_simulator_sign_pages.router,
        identity_pages.router,
        account_pages.router,
        organisation_pages.router,
        provider_routes.router,
        provider_authorize.router,
        resume.router,
        my_pages.router,
        submissions_api.router,
        submissions_staff_pages.router,
        official_pages.router,
        export_pages.router,
        procedures_staff_pages.router,
        signature_endpoints.router,
        approval_pages.router,
        signatures_pages.router,
        signatures_api.router,
        api_docs.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # On PostgreSQL the app connects as a role that row-level security holds (core.tenancy);
    # migrations and commands keep the owner's URL.
    app.state.engine = create_engine(
        settings.resolved_app_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    tenancy.guard(app.state.engine)
    await tenancy.check_engine_role(app.state.engine)  # refuses to start with an unsafe role
    app.state.session_factory = create_session_factory(app.state.engine)
    app.state.head_revision = migrations.head_revision()
    app.state.background = BackgroundJobs(app.state.session_factory, settings)
    app.state.background.start()
    if settings.is_production:  # not in tests, whose many apps would pile up frozen objects
        _freeze_what_start_up_made()
    try:
        yield
    finally:
        # Graceful shutdown: uvicorn has finished in-flight requests; stop the background jobs
        # (a round in progress rolls back), then close pooled connections.
        await app.state.background.stop()
        await app.state.engine.dispose()


def _freeze_what_start_up_made() -> None:
    """Move everything made at start-up (modules, reference data, models: about 200,000
    objects) out of the garbage collector's sight. Otherwise each full collection walks them
    all and stops the process for ~70 ms about once per thousand requests, which is what the
    99th percentile of bench/intake.py measured."""
    gc.collect()
    gc.freeze()
