"""`madoguchi officials …` and `madoguchi platform-admins …`: how the first administrator of a
body (and of the platform) is made on a fresh installation, from the server's command line.

``officials invite`` writes an invitation, emails it and prints its link (without an SMTP host,
development writes the email to the log too). ``platform-admins add`` makes the person with an
email address a platform administrator and prints a one-time sign-in link for them. Both are
recorded in the audit log as done by ``command-line``.

Sending email is the notifications domain's work, which sits above identity: ``madoguchi.cli``
hands the sender in (``officials_app(send_email)``), as ``web.app`` does for the pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.i18n import _
from madoguchi.core.settings import Settings, get_settings
from madoguchi.identity import email_links, officials
from madoguchi.identity.models.officials import OfficialRole
from madoguchi.identity.pages import EmailSender
from madoguchi.tenants import service as tenants

AFTER_SIGN_IN = "/staff"


def officials_app(send_email: EmailSender) -> typer.Typer:
    app = typer.Typer(help="Officials of public bodies and their roles.", no_args_is_help=True)

    @app.command("invite")
    def invite(
        body: Annotated[str, typer.Option(help="the body's code, such as 011002 (札幌市)")],
        email: Annotated[str, typer.Option(help="the address to send the invitation to")],
        role: Annotated[OfficialRole, typer.Option(help="the role to give")] = (
            OfficialRole.ADMINISTRATOR
        ),
    ) -> None:
        """Invite someone to be an official of a body; prints the invitation's link."""
        settings = get_settings()

        async def work(db: AsyncSession) -> tuple[str, str, tenants.Tenant]:
            tenant = await tenants.get_tenant(db, body)
            token, address = await officials.do_invite(db, tenant, email, role, None, _now())
            return token, address, tenant

        token, address, tenant = run_in_unit_of_work(work)
        link = officials.invitation_url(settings, token)
        _send(send_email, settings, address, tenant.name, role, link)
        typer.echo(f"invited {address} to {tenant.name} ({tenant.code}) as {role.value}")
        typer.echo(f"invitation link (works once, for {officials.INVITATION_DAYS} days): {link}")

    @app.command("list")
    def list_officials(body: Annotated[str, typer.Option(help="the body's code")]) -> None:
        """The officials of a body, with their roles."""

        async def work(db: AsyncSession) -> list[officials.OfficialRow]:
            tenant = await tenants.get_tenant(db, body)
            return await officials.list_officials(db, tenant.id)

        for row in run_in_unit_of_work(work):
            typer.echo(f"{row.role.value}\t{row.email or ''}\t{row.name}")

    return app


def platform_admins_app(send_email: EmailSender) -> typer.Typer:
    app = typer.Typer(help="Administrators of the whole platform.", no_args_is_help=True)

    @app.command("add")
    def add(email: Annotated[str, typer.Option(help="their email address")]) -> None:
        """Make someone a platform administrator; prints a one-time link to sign in with."""
        settings = get_settings()

        async def work(db: AsyncSession) -> tuple[str, str]:
            person = await officials.do_add_platform_administrator(db, email, None)
            address = person.email or email
            token = await email_links.create_link(db, address, AFTER_SIGN_IN, _now(), settings)
            return address, token

        address, token = run_in_unit_of_work(work)
        link = email_links.link_url(settings, token)
        asyncio.run(
            send_email(
                settings,
                address,
                "sign_in",
                link=link,
                minutes=settings.sign_in_link_minutes,
                site=settings.resolved_public_url(),
            )
        )
        typer.echo(f"{address} is a platform administrator")
        typer.echo(
            f"sign-in link (works once, for {settings.sign_in_link_minutes} minutes): {link}"
        )

    return app


def _send(
    send_email: EmailSender,
    settings: Settings,
    address: str,
    body: str,
    role: OfficialRole,
    link: str,
) -> None:
    asyncio.run(
        send_email(
            settings,
            address,
            "official_invitation",
            link=link,
            body=body,
            role=_(officials.ROLE_NAMES[role]),
            inviter="",
            days=officials.INVITATION_DAYS,
            site=settings.resolved_public_url(),
        )
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
