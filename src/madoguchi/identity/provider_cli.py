"""`madoguchi oidc …`: register the services that sign people in with madoguchi, and rotate the
provider's signing keys."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.settings import get_settings
from madoguchi.identity.models.provider import OidcClient, OidcSigningKey
from madoguchi.identity.provider import clients, keys

app = typer.Typer(help="madoguchi as an OpenID provider for other services.", no_args_is_help=True)
clients_app = typer.Typer(help="Registered client services.", no_args_is_help=True)
keys_app = typer.Typer(help="The keys that sign ID tokens.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")


@clients_app.command("add")
def add_client(
    name_ja: Annotated[str, typer.Option(help="the service's name in Japanese")],
    name_en: Annotated[str, typer.Option(help="the service's name in English")],
    redirect_uri: Annotated[list[str], typer.Option(help="exact; repeat for several")],
    jwks_file: Annotated[Path, typer.Option(help="the client's public JWK Set (JSON)")],
    sector: Annotated[str | None, typer.Option(help="default: the redirect URIs' host")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="default: all; repeat")] = None,
) -> None:
    """Register a client; prints its client_id."""
    jwks = _read_jwks(jwks_file)

    async def work(session: AsyncSession) -> OidcClient:
        return await clients.do_register_client(
            session,
            name_ja=name_ja,
            name_en=name_en,
            redirect_uris=redirect_uri,
            jwks=jwks,
            sector_identifier=sector,
            scopes=scope,
        )

    client = run_in_unit_of_work(work)
    typer.echo(client.client_id)


@clients_app.command("list")
def list_clients() -> None:
    """Every client: id, state, sector, scopes, names and redirect URIs."""
    for client in run_in_unit_of_work(clients.list_clients):
        state = "disabled" if client.disabled_at else "enabled"
        scopes = " ".join(client.allowed_scopes)
        typer.echo(f"{client.client_id}\t{state}\t{client.sector_identifier}\t{scopes}")
        typer.echo(f"\t{client.name_ja} / {client.name_en}")
        for uri in client.redirect_uris:
            typer.echo(f"\t{uri}")


@clients_app.command("disable")
def disable_client(client_id: str) -> None:
    """Refuse the client from now on (sign-ins, codes and tokens)."""

    async def work(session: AsyncSession) -> OidcClient:
        return await clients.do_disable_client(session, client_id, _now())

    typer.echo(f"{run_in_unit_of_work(work).client_id} disabled")


@keys_app.command("rotate")
def rotate_key() -> None:
    """Make a new signing key; the previous ones stay published until retired."""
    secret = get_settings().resolved_secret_key()

    async def work(session: AsyncSession) -> OidcSigningKey:
        return await keys.do_rotate(session, secret, _now())

    typer.echo(f"{run_in_unit_of_work(work).kid} signs from now on")


@keys_app.command("list")
def list_keys() -> None:
    for key in run_in_unit_of_work(keys.list_keys):
        state = "retired" if key.retired_at else "published"
        typer.echo(f"{key.kid}\t{key.alg}\t{state}\tmade {key.created_at:%Y-%m-%d %H:%M}")


@keys_app.command("retire")
def retire_key(kid: str) -> None:
    """Stop publishing a key (ID tokens it signed no longer verify)."""

    async def work(session: AsyncSession) -> OidcSigningKey:
        return await keys.do_retire(session, kid, _now())

    typer.echo(f"{run_in_unit_of_work(work).kid} retired")


def _read_jwks(path: Path) -> dict[str, object]:
    """The file's JWK Set; ``clients.check_public_jwks`` checks the keys themselves."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        typer.echo(f"error: jwks: {path} is not a readable JSON object (a JWK Set)", err=True)
        raise typer.Exit(2)
    return data


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
