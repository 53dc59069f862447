"""``madoguchi seal FILE --tenant CODE -o OUT`` and ``madoguchi verify FILE``.

``seal`` seals a PDF as a public body, exactly as the platform seals what it issues (the body's
e-seal, the red round stamp with a QR code of the verification page, a platform timestamp,
PAdES B-LT), and records it under a new reference. ``verify`` prints who signed or sealed a
PDF, when, whether it changed after, and the certificates' status then and now; it exits 0
only when the document is valid, 1 when it is not, and 2 when it could not be checked at all
(no such file, for instance).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.commands import run_in_unit_of_work
from madoguchi.core.files import sniff_media_type
from madoguchi.core.i18n import _, parse_language, set_language
from madoguchi.core.settings import get_settings
from madoguchi.core.tenancy import enter_tenant
from madoguchi.signatures.checking import check_document
from madoguchi.signatures.pki.seals import Body
from madoguchi.signatures.sealing import Sealed, seal_document, verification_url
from madoguchi.signatures.verification import MAX_PDF_BYTES, Verdict
from madoguchi.signatures.wording import describe, file_problems, headline
from madoguchi.tenants import service as tenants


def seal_command(
    file: Annotated[Path, typer.Argument(help="the PDF to seal")],
    tenant: Annotated[str, typer.Option("--tenant", help="the public body's code, e.g. 131016")],
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write the sealed PDF")],
    title: Annotated[str, typer.Option(help="what the document is (default: its name)")] = "",
) -> None:
    """Seal a PDF as a public body (its e-seal, stamp, timestamp)."""
    pdf = _read_pdf(file, "FILE")
    if output.exists() and output.resolve() == file.resolve():
        _fail("--output", _("write the sealed PDF to another file than the one sealed"))

    async def work(session: AsyncSession) -> Sealed:
        body = await tenants.get_tenant(session, tenant.strip())
        await enter_tenant(session, body.id)
        who = Body(body.id, body.code, body.name)
        return await seal_document(
            session, get_settings(), who, pdf, kind="sealed", title=title or file.name
        )

    sealed = run_in_unit_of_work(work)
    _write_atomically(output, sealed.pdf)
    reference = sealed.document.reference
    typer.echo(f"sealed: {output} ({len(sealed.pdf):,} bytes)")
    typer.echo(f"reference: {reference}")
    typer.echo(f"verify at: {verification_url(get_settings(), reference)}")


def verify_command(
    file: Annotated[Path, typer.Argument(help="the PDF to check")],
    language: Annotated[str, typer.Option(help="ja or en (default: the platform's)")] = "",
) -> None:
    """Check a signed or sealed PDF; exit status 0 only when it is valid."""
    set_language(parse_language(language) or get_settings().default_language)
    pdf = _read_bytes(file, "FILE")

    async def work(session: AsyncSession) -> Verdict:
        return await check_document(session, get_settings(), pdf)

    verdict = run_in_unit_of_work(work)
    _print(verdict)
    raise typer.Exit(code=0 if verdict.valid else 1)


def _print(verdict: Verdict) -> None:
    typer.echo(headline(verdict))
    for problem in file_problems(verdict):
        typer.echo(f"  - {problem}")
    for number, check in enumerate(verdict.signatures, start=1):
        words = describe(check)
        typer.echo(f"\n{_('Signature {number}', number=number)}: {words.who}")
        typer.echo(f"  {_('When')}: {words.when}")
        typer.echo(f"  {_('Unchanged since')}: {words.unchanged}")
        typer.echo(f"  {_('Certificate then')}: {words.status_then}")
        typer.echo(f"  {_('Certificate now')}: {words.status_now}")
        for problem in words.problems:
            typer.echo(f"  - {problem}")
    typer.echo(f"\nSHA-256: {verdict.sha256}")


def _read_pdf(path: Path, field: str) -> bytes:
    data = _read_bytes(path, field)
    if sniff_media_type(data) != "application/pdf":
        _fail(field, _("{path} is not a PDF", path=path))
    return data


def _read_bytes(path: Path, field: str) -> bytes:
    if not path.is_file():
        _fail(field, _("{path}: no such file", path=path))
    if path.stat().st_size > MAX_PDF_BYTES:
        _fail(field, _("{path} is larger than {limit} MB", path=path, limit=MAX_PDF_BYTES >> 20))
    return path.read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    """The whole sealed file or none: a half-written PDF would verify as damaged."""
    folder = path.resolve().parent
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as part:
        part.write(data)
        part.flush()
        os.fsync(part.fileno())
    Path(part.name).replace(path)


def _fail(field: str, message: str) -> NoReturn:
    typer.echo(f"error: {field}: {message}", err=True)
    raise typer.Exit(code=2)
