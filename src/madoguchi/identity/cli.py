"""`madoguchi audit …`: verify the audit log's hash chains and sign checkpoints of them."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.settings import get_settings
from madoguchi.identity import audit
from madoguchi.identity.models import AuditCheckpoint

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify_command() -> None:
    """Check every chain and checkpoint; exit 1 listing each edited, deleted or moved entry."""
    secret = get_settings().resolved_secret_key()

    async def work(session: AsyncSession) -> audit.Verified:
        return await audit.verify(session, secret)

    result = run_in_unit_of_work(work)
    if result.problems:
        typer.echo(f"{len(result.problems)} problems in the audit log:", err=True)
        for problem in result.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{result.entries} entries in {result.chains} chains verified")


@app.command("checkpoint")
def checkpoint_command() -> None:
    """Record and sign every chain's current head (run it regularly, and keep copies)."""
    secret = get_settings().resolved_secret_key()

    async def work(session: AsyncSession) -> AuditCheckpoint:
        return await audit.checkpoint(session, secret)

    signed = run_in_unit_of_work(work)
    typer.echo(f"checkpoint {signed.id}: {len(signed.heads)} chains, signature {signed.signature}")
