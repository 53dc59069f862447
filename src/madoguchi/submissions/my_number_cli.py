"""`madoguchi my-number …`: rotate the My Number key and seal stored numbers again under it.

An operator rotates with ``rotate-key`` (a new key is added to the key file and becomes the active
one; older keys stay, so every stored number still opens), then runs ``reencrypt`` (every stored
number, of every tenant, sealed again under the active key, in batches), after which an old key
may be removed from the file.
"""

from __future__ import annotations

import asyncio

import typer

from madoguchi.core.db import create_engine, create_session_factory
from madoguchi.core.my_number_keys import KeyFileError, key_file_path, key_ring, rotate_key_file
from madoguchi.core.settings import Settings, get_settings
from madoguchi.submissions.my_number import BATCH, Reencrypted, reencrypt_all

app = typer.Typer(help="My Number keys: rotation and re-encryption.", no_args_is_help=True)


@app.command("rotate-key")
def rotate_key_command() -> None:
    """Add a new key to the key file and make it the active one."""
    settings = get_settings()
    try:
        key_ring(settings)  # in development, makes the file on first use
        new_id = rotate_key_file(key_file_path(settings))
    except KeyFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"new active key {new_id}; run `madoguchi my-number reencrypt` next")


@app.command("reencrypt")
def reencrypt_command(
    batch: int = typer.Option(BATCH, min=1, max=10_000, help="rows per transaction"),
) -> None:
    """Seal every stored My Number (submissions and drafts) again under the active key."""
    settings = get_settings()
    try:
        done = asyncio.run(_reencrypt(settings, batch))
    except KeyFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{done.numbers} My Numbers sealed again under {key_ring(settings).active}: "
        f"{done.submissions} submissions, {done.drafts} drafts"
        + (
            f"; {done.unreadable_drafts} drafts could not be opened"
            if done.unreadable_drafts
            else ""
        )
    )


async def _reencrypt(settings: Settings, batch: int) -> Reencrypted:
    keys = key_ring(settings)
    engine = create_engine(settings.resolved_database_url())
    try:
        return await reencrypt_all(create_session_factory(engine), keys, settings, batch=batch)
    finally:
        await engine.dispose()
