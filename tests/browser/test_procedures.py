"""The metaverse consultation in a real browser, as issue [P2] is "done when": a new user finds it,
answers with an attachment, saves and continues on another device from an emailed link, submits
and downloads the receipt; an official finds the submission and exports the answers to Excel.
And the same consultation with JavaScript off, a mistake included.

Controls are found by the labels the procedure gives them (its own Japanese text) or by their
form names, never by the site's own wording, which changes as the catalogues are translated.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Download, Page, expect
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tests.browser.artifacts import artifact_name, save_screenshot
from tests.browser.conftest import Browsers
from tests.support.mail import Mailbox, link_in, text_of

pytestmark = pytest.mark.browser

CONSULTATION = "/bodies/soumu/procedures/metaverse-consultation"
TITLE = "メタバース等の利活用に関する意見募集"
EMAIL = "hanako@example.jp"
NAME = "山田 花子"
OPINION_SAFETY = "子どもが安心して使える仕組みを整えてください。\n保護者向けの説明も必要です。"
OPINION_PUBLIC = "窓口の予約に使えると便利です。"
ATTACHMENT = "意見書.pdf"
REFERENCE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]")
CONTINUE = ".question-page .form-actions button[name=_action][value=continue]"
MAIL_WAIT_S = 10.0


def a_real_pdf(text: str) -> bytes:
    """A small PDF that any reader opens (one page, one line)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.save()
    return buffer.getvalue()


def shot(request: pytest.FixtureRequest, page: Page, step: str) -> None:
    save_screenshot(page, f"{artifact_name(request)}-{step}")


# --- The applicant's steps -----------------------------------------------------------------------


def find_the_consultation(page: Page) -> None:
    """From the home page: search for the ministry, open it, open its consultation."""
    page.goto("/")
    search = page.get_by_role("search")
    search.get_by_role("searchbox").fill("総務省")
    search.get_by_role("button").click()
    page.get_by_role("link", name="総務省", exact=True).click()
    expect(page).to_have_url(re.compile(r"/bodies/soumu$"))
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(f"{CONSULTATION}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


def start_now(page: Page, first_page: str = "about_you") -> None:
    page.locator("form.start-form button").click()
    expect(page).to_have_url(re.compile(f"/pages/{first_page}$"))


def press_continue(page: Page) -> None:
    page.locator(CONTINUE).click()


def answer_about_you(page: Page, email: str = EMAIL) -> None:
    """Not anonymous: the name question appears once that is sent; then the name."""
    page.locator("input[name=anonymous][value=no]").check()
    page.get_by_label("メールアドレス").fill(email)
    press_continue(page)
    expect(page.locator(".notice")).to_be_visible()  # the answer added a question
    page.get_by_label("氏名または団体名").fill(NAME)
    press_continue(page)


def choose_topics(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/pages/opinions$"))
    page.get_by_label("安全・安心な利用環境", exact=True).check()
    page.get_by_label("行政サービスでの活用", exact=True).check()
    press_continue(page)
    expect(page.locator(".notice")).to_be_visible()


def give_opinions(page: Page, attachment: bytes) -> None:
    page.get_by_label("「安全・安心な利用環境」へのご意見").fill(OPINION_SAFETY)
    page.get_by_label("「行政サービスでの活用」へのご意見").fill(OPINION_PUBLIC)
    page.get_by_label("添付資料").set_input_files(
        files=[{"name": ATTACHMENT, "mimeType": "application/pdf", "buffer": attachment}]
    )
    press_continue(page)
    expect(page).to_have_url(re.compile(r"/check$"))


def answers_on(page: Page) -> dict[str, str]:
    """Check your answers and the receipt: each answer's text by its question's label."""
    answers = {}
    for row in page.locator(".answer-row").all():
        label = row.locator(":scope > dt").inner_text().strip()
        answers[label] = row.locator(":scope > dd.answer-text").inner_text().strip()
    return answers


def confirm_and_submit(page: Page) -> str:
    """Tick the declaration, submit; the reference number the receipt shows."""
    page.locator("#declaration_confirmed").check()
    page.locator(".submit-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/bodies/\w+/submissions/[0-9a-f-]{36}$"))
    reference = page.locator(".reference-number").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def downloaded(page: Page, link_selector: str) -> tuple[Download, bytes]:
    with page.expect_download() as started:
        page.locator(link_selector).click()
    download = started.value
    return download, Path(download.path()).read_bytes()


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode()


def the_link_emailed_to(mailbox: Mailbox, address: str) -> str:
    """The path of the one link in the one message sent to ``address`` (sent before the page
    answered, so it is normally there at once)."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while not any(m["To"] == address for m in mailbox.messages) and time.monotonic() < deadline:
        time.sleep(0.1)
    return link_in(text_of(mailbox.only_message_to(address)))


# --- The "Done when" journey ---------------------------------------------------------------------


def test_find_answer_save_continue_elsewhere_submit_and_export(
    request: pytest.FixtureRequest, browsers: Browsers, mailbox: Mailbox, tmp_path: Path
) -> None:
    attachment = a_real_pdf("Opinion on the metaverse report")
    laptop = browsers.applicant()
    find_the_consultation(laptop)
    shot(request, laptop, "1-start")
    start_now(laptop)
    answer_about_you(laptop)
    choose_topics(laptop)
    shot(request, laptop, "2-opinions")

    # Save and come back later, before typing the opinions
    laptop.locator(".save-later a").click()
    laptop.get_by_role("textbox").fill(EMAIL)
    laptop.locator("form[action$='/save'] button[type=submit]").click()
    expect(laptop.locator("main")).to_contain_text(EMAIL)
    link = the_link_emailed_to(mailbox, EMAIL)

    # Another device: the emailed link, confirmed with its button, leads to where it stopped
    phone = browsers.applicant()
    phone.goto(link)
    phone.locator(f"form[action='{link}'] button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/pages/opinions$"))
    expect(phone.get_by_label("安全・安心な利用環境", exact=True)).to_be_checked()
    expect(phone.get_by_label("行政サービスでの活用", exact=True)).to_be_checked()
    phone.locator("a.back-link").click()
    expect(phone.get_by_label("氏名または団体名")).to_have_value(NAME)
    expect(phone.locator("input[name=anonymous][value=no]")).to_be_checked()
    press_continue(phone)
    give_opinions(phone, attachment)

    answers = answers_on(phone)
    assert answers["氏名または団体名"] == NAME
    assert answers["ご意見のある論点"] == "安全・安心な利用環境、行政サービスでの活用"
    assert answers["「安全・安心な利用環境」へのご意見"] == OPINION_SAFETY
    assert answers["添付資料"].startswith(ATTACHMENT)
    shot(request, phone, "3-check")

    reference = confirm_and_submit(phone)
    expect(phone.locator("main")).to_contain_text("ご意見をお受けしました。")
    shot(request, phone, "4-receipt")
    download, receipt = downloaded(phone, "a[href$='/receipt.pdf']")
    assert download.suggested_filename == f"receipt-{reference}.pdf"
    assert receipt.startswith(b"%PDF")
    assert reference in pdf_text(receipt, tmp_path)

    official_finds_and_exports(request, browsers.official(), reference, attachment)


def official_finds_and_exports(
    request: pytest.FixtureRequest, official: Page, reference: str, attachment: bytes
) -> None:
    official.goto("/staff")  # the bodies they work for
    official.locator("a[href='/staff/bodies/soumu']").click()
    official.get_by_role("link", name=TITLE).first.click()
    expect(official).to_have_url(re.compile(r"/metaverse-consultation/submissions$"))
    shot(request, official, "5-staff-list")

    official.get_by_role("link", name=reference).click()
    main = official.locator("main")
    expect(main).to_contain_text(NAME)
    expect(main).to_contain_text(OPINION_PUBLIC)
    _download, file = downloaded(official, f"a[download]:has-text('{ATTACHMENT}')")
    assert file == attachment, "staff get the very file the applicant attached"

    official.go_back()
    download, workbook = downloaded(official, "a[href$='/submissions.xlsx']")
    assert download.suggested_filename.endswith(".xlsx")
    cells = [
        cell
        for sheet in load_workbook(io.BytesIO(workbook), read_only=True).worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]
    assert reference in cells
    assert OPINION_SAFETY in cells and OPINION_PUBLIC in cells


# --- Without JavaScript ------------------------------------------------------------------------


def test_the_consultation_without_javascript_with_a_mistake_corrected(
    request: pytest.FixtureRequest, browsers: Browsers, tmp_path: Path
) -> None:
    page = browsers.applicant(javascript=False)
    page.goto(CONSULTATION)
    start_now(page)

    page.locator("input[name=anonymous][value=no]").check()
    page.get_by_label("メールアドレス").fill("hanako.example.jp")
    press_continue(page)

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_have_attribute("href", "#email")
    email = page.get_by_label("メールアドレス")
    expect(email).to_have_value("hanako.example.jp")  # what was typed is kept
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_be_visible()
    shot(request, page, "1-error")

    summary.get_by_role("link").click()
    expect(email).to_be_focused()
    email.fill(EMAIL)
    page.get_by_label("氏名または団体名").fill(NAME)
    press_continue(page)

    choose_topics(page)
    give_opinions(page, a_real_pdf("Opinion sent without JavaScript"))
    assert answers_on(page)["メールアドレス"] == EMAIL
    reference = confirm_and_submit(page)
    expect(page.locator("main")).to_contain_text(ATTACHMENT)
    shot(request, page, "2-receipt")

    _download, receipt = downloaded(page, "a[href$='/receipt.pdf']")
    assert reference in pdf_text(receipt, tmp_path)
