"""`madoguchi cards …`: virtual My Number cards of the built-in simulator.

``madoguchi cards issue`` issues a card to a synthetic resident (a realistic Japanese name and a
real address, made up unless given) and prints its card number, PIN and signature password:
they are printed once and kept nowhere in the clear.

``madoguchi cards revoke CARD_NUMBER`` revokes both of a card's certificates at the residents'
authority. JPKI revokes a signature certificate when its holder's name or address changes (its
attributes would no longer be true); the simulator has no such change, so this is done by hand,
with that reason unless another is given. A revocation is in the very next CRL.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.settings import get_settings
from madoguchi.core.text import nfc
from madoguchi.identity.card_simulator.cards import (
    IssuedCard,
    certificate_serials,
    find_card,
    issue_card,
)
from madoguchi.identity.card_simulator.chip import parse_password, parse_pin
from madoguchi.identity.card_simulator.residents import synthetic_resident
from madoguchi.signatures import service as signatures

app = typer.Typer(help="Virtual My Number cards of the card simulator.", no_args_is_help=True)
SEXES = {"male": "1", "1": "1", "female": "2", "2": "2", "other": "9", "9": "9"}


@app.command("issue")
def issue_command(
    name: str | None = typer.Option(None, help="family and given name, e.g. '山田 花子'"),
    birthdate: str | None = typer.Option(None, help="YYYY-MM-DD"),
    address: str | None = typer.Option(None, help="as on the residence record"),
    gender: str | None = typer.Option(None, help="male, female or other (ISO 5218 1, 2, 9)"),
    pin: str | None = typer.Option(None, help="4 digits; made up if not given"),
    password: str | None = typer.Option(
        None, help="signature password: 6-16 letters A-Z and digits; made up if not given"
    ),
) -> None:
    """Issue a virtual card to a synthetic resident and print how to use it."""
    holder = synthetic_resident(
        name=nfc(name).strip() if name else None,
        address=nfc(address).strip() if address else None,
        birthdate=_date(birthdate) if birthdate else None,
        sex=_sex(gender) if gender else None,
    )

    async def work(session: AsyncSession) -> IssuedCard:
        chosen_pin = parse_pin(pin, "--pin") if pin else None
        chosen_password = parse_password(password, "--password") if password else None
        return await issue_card(
            session, get_settings(), holder, pin=chosen_pin, password=chosen_password
        )

    _print(run_in_unit_of_work(work))


@app.command("revoke")
def revoke_command(
    card_number: str = typer.Argument(..., help="as printed on the card, e.g. 7KQ2-9XMD-R"),
    reason: str = typer.Option(
        "affiliation_changed",
        help="affiliation_changed (name or address changed), key_compromise (card lost), "
        "superseded, cessation_of_operation or unspecified",
    ),
) -> None:
    """Revoke both certificates of a virtual card (as JPKI does when the holder's name or
    address changes)."""

    async def work(session: AsyncSession) -> tuple[list[str], str]:
        why = signatures.parse_reason(reason, "--reason")
        card = await find_card(session, card_number, "CARD_NUMBER")
        serials = certificate_serials(card)
        for serial in serials:
            await signatures.revoke_certificate(session, serial, why)
        return serials, why.value

    serials, why = run_in_unit_of_work(work)
    for serial in serials:
        typer.echo(f"revoked: {serial} ({why})")


def _print(card: IssuedCard) -> None:
    typer.echo(f"card number: {card.card_number}")
    typer.echo(f"PIN:         {card.pin}")
    typer.echo(f"password:    {card.password}")
    typer.echo(f"name:        {card.holder.name}")
    typer.echo(f"address:     {card.holder.address}")
    typer.echo(f"birthdate:   {card.holder.birthdate.isoformat()}")
    typer.echo(f"sex:         {card.holder.sex} (ISO/IEC 5218)")
    typer.echo(f"valid until: {card.expires_on.isoformat()}")
    typer.echo("This is a simulated card: it proves nothing about a real person.")


def _date(typed: str) -> dt.date:
    try:
        return dt.date.fromisoformat(typed.strip())
    except ValueError:
        _fail("--birthdate", "write the date as YYYY-MM-DD, for example 1985-04-01")


def _sex(typed: str) -> str:
    sex = SEXES.get(typed.strip().lower())
    if sex is None:
        _fail("--gender", "male, female or other")
    return sex


def _fail(field: str, message: str) -> NoReturn:
    typer.echo(f"error: {field}: {message}", err=True)
    raise typer.Exit(code=2)
