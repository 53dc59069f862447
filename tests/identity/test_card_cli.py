"""`madoguchi cards issue`: a virtual card on the command line, with what it prints."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from madoguchi.cli import app
from madoguchi.core.settings import get_settings
from madoguchi.identity.card_simulator.cards import find_card
from madoguchi.identity.models.cards import VirtualCard
from madoguchi.signatures import service as signatures
from madoguchi.signatures.service import CaName
from tests.support.cards import in_database

runner = CliRunner()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def printed(output: str, label: str) -> str:
    match = re.search(rf"^{label}:\s+(.+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1).strip()


def stored(database_url: str, number: str) -> VirtualCard:
    async def work(session: AsyncSession) -> VirtualCard:
        return await find_card(session, number)

    return in_database(database_url, work)


def test_issue_makes_up_a_resident_with_a_real_address(configured: str) -> None:
    result = runner.invoke(app, ["cards", "issue"])
    assert result.exit_code == 0, result.output
    number, pin = printed(result.output, "card number"), printed(result.output, "PIN")
    assert re.fullmatch(r"[0-9]{4}", pin)
    assert 6 <= len(printed(result.output, "password")) <= 16
    card = stored(configured, number)
    assert "\u3000" in card.name  # family and given name
    assert re.match(r"^(北海道|東京都|大阪府|京都府|.{2,3}県)", card.address)
    assert card.pin_failures == 0 and card.expires_on > card.issued_on


def test_issue_with_what_was_given(configured: str) -> None:
    result = runner.invoke(
        app,
        [
            "cards", "issue", "--name", "鈴木　一郎", "--birthdate", "1970-02-28",
            "--address", "東京都千代田区千代田1-1", "--gender", "male",
            "--pin", "4321", "--password", "ichiro99",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert printed(result.output, "PIN") == "4321"
    assert printed(result.output, "password") == "ICHIRO99"
    card = stored(configured, printed(result.output, "card number"))
    assert (card.name, card.sex, card.birthdate.isoformat()) == (
        "鈴木\u3000一郎",
        "1",
        "1970-02-28",
    )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (["--pin", "12345"], "--pin"),
        (["--password", "short"], "--password"),
        (["--birthdate", "28/02/1970"], "--birthdate"),
        (["--gender", "x"], "--gender"),
    ],
)
def test_issue_refuses_what_a_card_cannot_hold(
    configured: str, arguments: list[str], field: str
) -> None:
    result = runner.invoke(app, ["cards", "issue", *arguments])
    assert result.exit_code == 2
    assert f"error: {field}:" in result.output


def test_the_issued_certificates_chain_to_the_platform_root(configured: str) -> None:
    result = runner.invoke(app, ["cards", "issue"])
    card = stored(configured, printed(result.output, "card number"))
    chain = in_database(
        configured, lambda session: signatures.chain_of(session, get_settings(), CaName.RESIDENTS)
    )
    residents, root = chain
    for pem in (card.authentication_certificate_pem, card.signature_certificate_pem):
        certificate = x509.load_pem_x509_certificate(pem.encode())
        certificate.verify_directly_issued_by(residents)
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
    residents.verify_directly_issued_by(root)
    auth = x509.load_pem_x509_certificate(card.authentication_certificate_pem.encode())
    purposes = auth.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in purposes


def test_revoke_revokes_both_certificates_and_the_next_crl_says_so(configured: str) -> None:
    issued = runner.invoke(app, ["cards", "issue"])
    number = printed(issued.output, "card number")
    result = runner.invoke(app, ["cards", "revoke", number])
    assert result.exit_code == 0, result.output
    card = stored(configured, number)
    serials = {
        x509.load_pem_x509_certificate(pem.encode()).serial_number
        for pem in (card.authentication_certificate_pem, card.signature_certificate_pem)
    }
    assert result.output.count("(affiliation_changed)") == 2
    crl = x509.load_der_x509_crl(
        in_database(
            configured,
            lambda session: signatures.crl_der(session, get_settings(), CaName.RESIDENTS),
        )
    )
    revoked = {entry.serial_number for entry in crl}
    assert serials <= revoked
    again = runner.invoke(app, ["cards", "revoke", number, "--reason", "key-compromise"])
    assert again.exit_code == 0, again.output  # revoking again changes nothing


@pytest.mark.parametrize(
    ("arguments", "field"),
    [(["NOT-A-CARD"], "CARD_NUMBER"), (["7KQ2-9XMD-R", "--reason", "bored"], "--reason")],
)
def test_revoke_refuses_an_unknown_card_or_reason(
    configured: str, arguments: list[str], field: str
) -> None:
    result = runner.invoke(app, ["cards", "revoke", *arguments])
    assert result.exit_code == 2
    assert f"error: {field}:" in result.output
