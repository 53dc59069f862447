"""Done when, issue [P4] "Digital hanko", in a real browser: a new user signs the subsidy
application with a virtual card and receives a sealed PDF receipt whose stamp shows the
municipality; the public verification page confirms it, pdfsig confirms it, and the same file
with one byte changed is reported as altered (by the page and by `madoguchi verify`).

The seeded subsidy is the ministry's (経済産業省); here the municipality of Sapporo offers the
same application as its own, so the receipt is sealed by 札幌市.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from playwright.sync_api import Page, expect
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.identity.models.cards import VirtualCard
from madoguchi.procedures import service as procedures
from madoguchi.procedures.examples import __file__ as examples_init
from tests.browser.artifacts import ARTIFACTS, artifact_name, save_screenshot
from tests.browser.card_support import PASSWORD, sign_in_with_a_new_card
from tests.browser.test_procedures import downloaded, press_continue, start_now
from tests.support.databases import in_database
from tests.support.samples import PDF
from tests.support.server import Server, madoguchi_command, server_environment

pytestmark = pytest.mark.browser

SAPPORO, SAPPORO_NAME = "011002", "札幌市"
SUBSIDY = f"/bodies/{SAPPORO}/procedures/small-business-subsidy"
DPI = 100
RED_PIXELS_AT_LEAST = 300  # the rings alone are several hundred at 100 dpi


# --- The municipality's subsidy and the applicant's journey -------------------------------------


def offer_the_subsidy_in_sapporo(database_url: str) -> None:
    """Sapporo publishes the small business subsidy application as its own procedure."""
    source = (Path(examples_init).parent / "small-business-subsidy.yaml").read_text("utf-8")
    source = source.replace("owner: meti", f"owner: '{SAPPORO}'", 1)

    async def publish(session: AsyncSession) -> None:
        draft = await procedures.save_draft(session, SAPPORO, source)
        procedure = await procedures.get_procedure(session, SAPPORO, "small-business-subsidy")
        await procedures.publish(session, procedure, draft.version)

    in_database(database_url, publish)


def the_only_card_number(database_url: str) -> str:
    async def find(session: AsyncSession) -> str:
        (number,) = (await session.scalars(select(VirtualCard.card_number))).all()
        return number

    return in_database(database_url, find)


def fill_in_the_application(page: Page) -> None:
    start_now(page, "business")
    page.locator("input[name=corporate_number]").fill("5835678256246")
    page.locator("input[name=employees]").fill("12")
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/pages/costs$"))
    page.locator("input[name=equipment_cost]").fill("1,200,000")
    page.locator("input[name=service_cost]").fill("300000")
    page.locator("input[name='quotes.upload']").set_input_files(
        files=[{"name": "見積書.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/pages/payment$"))
    page.locator("input[name='bank_account.bank']").fill("0001")
    page.locator("input[name='bank_account.branch']").fill("001")
    page.locator("select[name='bank_account.type']").select_option("ordinary")
    page.locator("input[name='bank_account.number']").fill("1234567")
    page.locator("input[name='bank_account.holder']").fill("カ）マドグチ")
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))


def sign_and_submit(page: Page, card_number: str) -> None:
    """Check your answers → what signing means → the card's signing page → the receipt."""
    page.locator("#declaration_confirmed").check()
    page.locator(".submit-form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign with your My Number card")
    page.get_by_role("button", name="Sign and submit").click()
    expect(page).to_have_url(re.compile(r"/card-simulator/sign\?"))
    page.get_by_label("Card number").fill(card_number)
    page.get_by_label("Signature password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/bodies/{SAPPORO}/submissions/[0-9a-f-]{{36}}$"))


# --- Reading the sealed PDF ---------------------------------------------------------------------


def seal_of(pdf: bytes) -> tuple[str, tuple[float, float, float, float]]:
    """The seal's reference (its field is named ``Seal-<reference>``) and where its stamp is
    drawn, as the signature field's rectangle in PDF points."""
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    reference = signature.field_name.removeprefix("Seal-")
    left, bottom, right, top = (float(value) for value in signature.sig_field["/Rect"])
    return reference, (left, bottom, right, top)


def last_page_png(pdf: Path) -> Image.Image:
    pages = int(number_after(rb"Pages:\s+", run(["pdfinfo", str(pdf)]).stdout))
    prefix = pdf.with_suffix("")
    run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(pages), "-l", str(pages), "-singlefile",
         str(pdf), str(prefix)])  # fmt: skip
    return Image.open(prefix.with_suffix(".png")).convert("RGB")


def red_pixels(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Seal-red pixels inside ``box`` (PDF points, origin at the page's foot)."""
    scale = DPI / 72
    left, bottom, right, top = box
    height = image.height
    area = (round(left * scale), round(height - top * scale), round(right * scale),
            round(height - bottom * scale))  # fmt: skip
    pixels = image.crop(area).tobytes()  # RGB, three bytes a pixel
    return sum(
        1
        for red, green, blue in zip(pixels[0::3], pixels[1::3], pixels[2::3], strict=True)
        if red > 150 and green < 90 and blue < 100
    )


def run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, check=True)


def number_after(prefix: bytes, data: bytes) -> int:
    found = re.search(prefix + rb"(\d+)", data)
    assert found is not None, (prefix, data[:200])
    return int(found[1])


def pdf_text(pdf: Path) -> str:
    return run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"]).stdout.decode()


def pdfsig(pdf: Path, *options: str) -> str:
    """pdfsig's report (it exits non-zero for a document it finds not valid)."""
    result = subprocess.run(["pdfsig", *options, str(pdf)], capture_output=True, check=False)
    return (result.stdout + result.stderr).decode()


def nss_database_trusting(server: Server, folder: Path) -> str:
    """An NSS database that trusts the platform root, as an operator would make one. pdfsig
    checks a signer for S/MIME use, so the root is trusted for that (the middle of ``C,C,``);
    trusted for TLS alone (``C,,``) it reports "Certificate issuer isn't Trusted."."""
    der = httpx.get(server.url("/pki/root.crt"), timeout=10).content
    root = folder / "root.pem"
    root.write_bytes(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM))
    database = folder / "nss"
    database.mkdir()
    run(["certutil", "-N", "--empty-password", "-d", f"sql:{database}"])
    run(["certutil", "-A", "-n", "madoguchi", "-t", "C,C,", "-i", str(root), "-d",
         f"sql:{database}"])  # fmt: skip
    return f"sql:{database}"


def one_byte_changed(pdf: bytes) -> bytes:
    """The same file with one byte changed inside the signed range: in the comment line after
    the header (``%PDF-1.x`` then ``%…``), which every reader skips, so the file still opens and
    only the signature can tell."""
    offset = pdf.index(b"\n") + 2
    assert pdf[offset - 1 : offset] == b"%", pdf[:40]
    assert offset < number_after(rb"/ByteRange\s*\[\s*0\s+", pdf)  # the first signed part
    altered = bytearray(pdf)
    altered[offset] ^= 0x01
    return bytes(altered)


def madoguchi_verify(
    server: Server, database_url: str, pdf: Path
) -> subprocess.CompletedProcess[bytes]:
    """`madoguchi verify FILE` as an operator runs it beside the server (its settings)."""
    environment = server_environment(server.log_path.parent, database_url)
    return subprocess.run(
        [*madoguchi_command(), "verify", str(pdf), "--language", "en"],
        capture_output=True, check=False, env=environment, timeout=120,
    )  # fmt: skip


# --- Checking in the browser --------------------------------------------------------------------


def upload_to_verify(page: Page, pdf: Path) -> None:
    page.goto("/verify")
    page.get_by_label("The PDF file").set_input_files(str(pdf))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Result of the check")


# --- The journey --------------------------------------------------------------------------------


def test_a_signed_application_gets_a_sealed_receipt_that_anyone_can_verify(
    request: pytest.FixtureRequest,
    page: Page,
    server: Server,
    database_url: str,
    tmp_path: Path,
) -> None:
    offer_the_subsidy_in_sapporo(database_url)
    sign_in_with_a_new_card(page, SUBSIDY, language="en")
    fill_in_the_application(page)
    sign_and_submit(page, the_only_card_number(database_url))
    expect(page.locator(".resident-signature")).to_contain_text("Signed with the My Number card")
    save_screenshot(page, f"{artifact_name(request)}-1-receipt")

    download, receipt = downloaded(page, "a[href$='/receipt.pdf']")
    assert download.suggested_filename.startswith("receipt-") and receipt.startswith(b"%PDF")
    sealed = tmp_path / "receipt.pdf"
    sealed.write_bytes(receipt)
    (ARTIFACTS / "done-when-hanko-receipt.pdf").write_bytes(receipt)

    the_stamp_is_red_and_names_the_municipality(sealed)
    the_verification_pages_say_valid(request, page, server, sealed)
    pdfsig_says_valid_and_trusted(server, sealed, tmp_path)
    one_byte_changed_is_not_valid(request, page, server, database_url, sealed)


def the_stamp_is_red_and_names_the_municipality(sealed: Path) -> None:
    """Red pixels where the seal is drawn, and nowhere else; its text says who and 受付."""
    _reference, stamp = seal_of(sealed.read_bytes())
    image = last_page_png(sealed)
    image.save(ARTIFACTS / "done-when-hanko-receipt-last-page.png")
    seal_square = (stamp[0], stamp[1], stamp[0] + (stamp[3] - stamp[1]), stamp[3])
    in_the_seal = red_pixels(image, seal_square)
    assert in_the_seal >= RED_PIXELS_AT_LEAST
    assert red_pixels(image, (0, 0, image.width * 72 / DPI, image.height * 72 / DPI)) == in_the_seal
    text = pdf_text(sealed)
    assert SAPPORO_NAME in text and "受付" in text, text


def the_verification_pages_say_valid(
    request: pytest.FixtureRequest, page: Page, server: Server, sealed: Path
) -> None:
    """The QR code's page (the seal's reference), the copy compared there, the upload page."""
    reference, _stamp = seal_of(sealed.read_bytes())
    page.goto(f"/verify/{reference}")
    expect(page.locator(".verdict")).to_contain_text("Valid: the document")
    expect(page.locator(".facts").first).to_contain_text(f"Sealed by{SAPPORO_NAME}")
    expect(page.locator(".signature-check h2").first).to_contain_text(SAPPORO_NAME)
    save_screenshot(page, f"{artifact_name(request)}-2-sealed-document")
    page.get_by_label("Your copy (PDF)").set_input_files(str(sealed))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("main")).to_contain_text("Yes: your file is exactly the document")

    upload_to_verify(page, sealed)
    expect(page.locator(".verdict")).to_contain_text("Valid: the document")
    expect(page.locator(".signature-check h2").first).to_contain_text(SAPPORO_NAME)
    save_screenshot(page, f"{artifact_name(request)}-3-result-valid")
    api = httpx.get(server.url(f"/api/v1/verify/{reference}"), timeout=30).json()
    assert api["valid"] and api["signatures"][0]["signer"] == SAPPORO_NAME
    assert api["document"]["sha256"] == hashlib.sha256(sealed.read_bytes()).hexdigest()


def pdfsig_says_valid_and_trusted(server: Server, sealed: Path, folder: Path) -> None:
    assert "Signature is Valid." in pdfsig(sealed)
    trusted = pdfsig(sealed, "-nssdir", nss_database_trusting(server, folder))
    assert "Signature is Valid." in trusted and "Certificate is Trusted." in trusted, trusted


def one_byte_changed_is_not_valid(
    request: pytest.FixtureRequest, page: Page, server: Server, database_url: str, sealed: Path
) -> None:
    """On the upload page and by `madoguchi verify` (which passes the file as it was)."""
    altered = sealed.with_name("altered.pdf")
    altered.write_bytes(one_byte_changed(sealed.read_bytes()))
    upload_to_verify(page, altered)
    expect(page.locator(".verdict")).to_contain_text("Not valid")
    expect(page.locator(".signature-check")).to_contain_text("altered")
    save_screenshot(page, f"{artifact_name(request)}-4-result-altered")

    as_sealed = madoguchi_verify(server, database_url, sealed)
    assert as_sealed.returncode == 0, as_sealed.stdout + as_sealed.stderr
    checked = madoguchi_verify(server, database_url, altered)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert b"Not valid" in checked.stdout and b"altered" in checked.stdout
    assert "Signature is Valid." not in pdfsig(altered)
