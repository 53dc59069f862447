"""`madoguchi organisations …`: register an organisation for a person and list them (operators,
demonstrations). What an operator registers is audited as the operator's act."""

from __future__ import annotations

from collections.abc import Callable

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.errors import InvalidInput, InvalidInputs
from madoguchi.identity import organisations
from madoguchi.identity.email_links import parse_email
from madoguchi.identity.models import Organisation, Person
from madoguchi.identity.organisation_numbers import Registration, check_registration

app = typer.Typer(help="Businesses and organisations people act for.", no_args_is_help=True)

OPERATOR = "operator:command-line"


@app.command("add")
def add_command(
    kind: str = typer.Option(..., help="business, medical-institution or other"),
    name: str = typer.Option(..., help="the name as registered"),
    representative_email: str = typer.Option(
        ..., help="the email address of the person who represents it (signed in once before)"
    ),
    corporate_number: str = typer.Option("", help="法人番号, 13 digits (needed for a business)"),
    medical_institution_code: str = typer.Option(
        "", help="医療機関コード, 10 digits (needed for a medical institution)"
    ),
) -> None:
    """Register an organisation with its representative."""
    registration = _checked(
        {
            "kind": kind,
            "name": name,
            "corporate_number": corporate_number,
            "medical_institution_code": medical_institution_code,
        }
    )
    email = _run_check(lambda: parse_email(representative_email, "representative-email"))

    async def work(db: AsyncSession) -> Organisation:
        person = await db.scalar(select(Person).where(Person.email == email))
        if person is None:
            raise InvalidInput(
                "Nobody has signed in with this email address yet: they sign in once, then "
                "run this again.",
                field="representative-email",
            )
        return await organisations.do_register_for(db, person.id, registration, actor=OPERATOR)

    organisation = run_in_unit_of_work(work)
    typer.echo(f"{organisation.id}\t{organisation.kind}\t{organisation.name}")


@app.command("list")
def list_command() -> None:
    """Every organisation, with its kind, numbers and representative."""

    async def work(db: AsyncSession) -> list[tuple[Organisation, Person | None]]:
        return await organisations.list_organisations(db)

    for organisation, person in run_in_unit_of_work(work):
        representative = (person.email or person.display_name or str(person.id)) if person else "-"
        typer.echo(
            "\t".join(
                [
                    str(organisation.id),
                    organisation.kind,
                    organisation.corporate_number or "-",
                    organisation.medical_institution_code or "-",
                    organisation.name,
                    representative,
                ]
            )
        )


def _checked(form: dict[str, str]) -> Registration:
    try:
        return check_registration(form)
    except InvalidInputs as problems:
        for problem in problems.problems:
            typer.echo(f"error: {_option(problem.field)}: {problem}", err=True)
        raise typer.Exit(code=2) from None


def _run_check(check: Callable[[], str]) -> str:
    try:
        return check()
    except InvalidInput as problem:
        typer.echo(f"error: {_option(problem.field)}: {problem}", err=True)
        raise typer.Exit(code=2) from None


def _option(field: str | None) -> str:
    return "--" + (field or "").replace("_", "-")
