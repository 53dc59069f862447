"""`madoguchi procedures …`: draft procedure definitions from the Excel templates they replace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from madoguchi.core.errors import MadoguchiError
from madoguchi.procedures.excel import draft_from_workbook, draft_yaml

app = typer.Typer(
    help="Procedure definitions: draft them from Excel templates.", no_args_is_help=True
)


@app.command("from-xlsx")
def from_xlsx(
    file: Annotated[Path, typer.Argument(help="the Excel template (.xlsx)")],
    owner: Annotated[str, typer.Option(help="the owning public body's code")],
    slug: Annotated[str | None, typer.Option(help="the procedure's slug; default: guessed")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the YAML here, not to stdout")
    ] = None,
) -> None:
    """Draft a definition from an Excel template: YAML out, notes on what was skipped to stderr."""
    try:
        draft = draft_from_workbook(file, owner=owner, slug=slug)
        text = draft_yaml(draft)
        if output is not None:
            _write(output, text)
    except MadoguchiError as error:
        where = f"{error.field}: " if error.field else ""
        typer.echo(f"error: {where}{error}", err=True)
        raise typer.Exit(code=2) from None
    if output is None:
        typer.echo(text, nl=False)
    for note in draft.notes:
        typer.echo(f"note: {note}", err=True)
    count = sum(len(page["questions"]) for page in draft.definition["pages"])
    typer.echo(f"{count} questions drafted; review them before publishing", err=True)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise MadoguchiError(
            "cannot write {path}: {reason}", field="output", path=str(path), reason=error.strerror
        ) from None
