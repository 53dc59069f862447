"""The `madoguchi` command: serve the platform, manage the database, inspect reference data."""

from __future__ import annotations

import sys

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi import migrations
from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.my_number_keys import key_ring
from madoguchi.core.settings import get_settings
from madoguchi.identity import card_cli, official_cli, organisation_cli, provider_cli
from madoguchi.identity import cli as identity_cli
from madoguchi.notifications import mail
from madoguchi.procedures import cli as procedures_cli
from madoguchi.procedures import examples
from madoguchi.signatures import cli as signatures_cli
from madoguchi.submissions import my_number_cli
from madoguchi.tenants import cli as tenants_cli
from madoguchi.tenants import service as tenants

app = typer.Typer(
    help="madoguchi (窓口): every public body's procedures online.", no_args_is_help=True
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenants_cli.app, name="tenants")
app.add_typer(procedures_cli.app, name="procedures")
app.add_typer(identity_cli.app, name="audit")
app.add_typer(official_cli.officials_app(mail.send_template), name="officials")
app.add_typer(official_cli.platform_admins_app(mail.send_template), name="platform-admins")
app.add_typer(card_cli.app, name="cards")
app.add_typer(provider_cli.app, name="oidc")
app.add_typer(organisation_cli.app, name="organisations")
app.add_typer(my_number_cli.app, name="my-number")
console = Console(stderr=True)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="default: MADOGUCHI_HOST or 127.0.0.1"),
    port: int | None = typer.Option(None, help="default: MADOGUCHI_PORT or 8000"),
    workers: int | None = typer.Option(None, help="processes; default: MADOGUCHI_WORKERS or 1"),
) -> None:
    """Migrate the database, load the reference data and serve the portal and API."""
    settings = get_settings()
    settings.resolved_secret_key()  # generated and kept on first run in development
    key_ring(settings)  # the same for the My Number keys; production needs a 0600 key file
    upgrade()
    seed()
    host, port = host or settings.host, port or settings.port
    console.print(f"[bold green]madoguchi is serving on http://{host}:{port}[/] (Ctrl+C stops it)")
    uvicorn.run(
        "madoguchi.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply every migration not yet applied (nothing to do at head)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.resolved_database_url(), app_role=settings.database_app_role)
    console.print(f"database at revision {migrations.head_revision()}")


@db_app.command("check")
def check() -> None:
    """Fail unless the database is at the migrations' head and matches the models."""
    url = get_settings().resolved_database_url()
    current = migrations.database_revision(url)
    if current != migrations.head_revision():
        console.print(f"[red]database at {current}, migrations at {migrations.head_revision()}[/]")
        raise typer.Exit(1)
    drift = migrations.schema_drift(url)
    if drift:
        console.print("[red]the models and the migrations disagree:[/]")
        for difference in drift:
            console.print(f"  {difference}")
        raise typer.Exit(1)
    console.print(f"database at head {current}; models and migrations agree")


@app.command()
def seed() -> None:
    """Load or refresh the reference data: every public body and ward (idempotent)."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Loading public bodies", total=tenants.reference_size())

        async def work(session: AsyncSession) -> tenants.SyncReport:
            return await tenants.sync_reference_data(
                session, progress=lambda done: progress.advance(task, done)
            )

        report = run_in_unit_of_work(work)
    console.print(f"{report.tenants} public bodies and {report.wards} wards loaded")
    published = run_in_unit_of_work(examples.sync_examples)
    console.print(f"example procedures: {published} published or updated")


def main() -> None:
    sys.exit(app())


# last, so that they come after serve, seed and db in the help
app.command("seal")(signatures_cli.seal_command)
app.command("verify")(signatures_cli.verify_command)
