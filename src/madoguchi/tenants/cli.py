"""`madoguchi tenants …`: list and show public bodies from the command line."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.tenants import service
from madoguchi.tenants.models import Tenant, TenantKind
from madoguchi.tenants.schemas import TenantOut, WardOut

app = typer.Typer(help="Public bodies: prefectures, municipalities, ministries and agencies.")
console = Console()


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@app.command("list")
def list_command(
    kind: Annotated[TenantKind | None, typer.Option(help="only bodies of this kind")] = None,
    prefecture: Annotated[
        str | None, typer.Option(help="2-digit or 6-digit prefecture code")
    ] = None,
    q: Annotated[str | None, typer.Option(help="name, kana or code")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json")
    ] = OutputFormat.TABLE,
) -> None:
    """List public bodies, all of them unless filtered."""

    async def work(session: AsyncSession) -> list[Tenant]:
        return await service.list_all_tenants(session, kind=kind, prefecture=prefecture, q=q)

    tenants = run_in_unit_of_work(work)
    if output == OutputFormat.JSON:
        rows = [TenantOut.model_validate(t).model_dump(mode="json") for t in tenants]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("code", "kind", "name", "kana", "prefecture")
    for tenant in tenants:
        table.add_row(
            tenant.code, tenant.kind, tenant.name, tenant.name_kana, tenant.prefecture_code or ""
        )
    console.print(table)
    console.print(f"{len(tenants)} public bodies")


@app.command("show")
def show_command(
    code: Annotated[
        str, typer.Argument(help="6-digit JIS X 0402 code, 5-digit base, or national code")
    ],
) -> None:
    """Show one public body as JSON, with its wards if it is a designated city."""

    async def work(session: AsyncSession) -> dict[str, object]:
        tenant = await service.get_tenant(session, code)
        wards = await service.list_wards(session, tenant)
        body = TenantOut.model_validate(tenant).model_dump(mode="json")
        return {**body, "wards": [WardOut.model_validate(w).model_dump() for w in wards]}

    typer.echo(json.dumps(run_in_unit_of_work(work), ensure_ascii=False, indent=2))
