"""The PDF receipt: Japanese text embedded in a real font, every answer, pages that break."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from madoguchi.procedures.loader import load_definition
from madoguchi.submissions import receipts
from madoguchi.submissions.models import Submission
from madoguchi.submissions.receipts import ReceiptFor, receipt_pdf
from tests.submissions.export_support import GRANT, said
from tests.submissions.journey_support import send
from tests.submissions.test_journey import about_you, opinions, start

SUBMITTED = dt.datetime(2026, 11, 28, 4, 5, tzinfo=dt.UTC)  # 13:05 in Japan
CHIYODA = ReceiptFor("千代田区", "Chiyoda City", load_definition(GRANT))
ANSWERS: dict[str, Any] = {
    "name": {"family": "山田", "given": "花子", "family_kana": "ヤマダ", "given_kana": "ハナコ"},
    "my_number": {"encrypted": "v1.token-never-shown", "last4": "9018"},
    "note": "二人の子どもを育てています。",
    "agree": True,
    "children": [{"child_name": "山田 一郎", "born": "2020-04-01"}],
}


def _submission(answers: dict[str, Any] = ANSWERS, language: str = "ja") -> Submission:
    return Submission(
        id=uuid.uuid4(),
        reference="7KQ2-9XMD-R",
        answers=answers,
        computed={"children_count": len(answers.get("children", []))},
        language=language,
        submitted_at=SUBMITTED,
    )


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def _fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    return [line.split() for line in done.stdout.splitlines()[2:]]


def _pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def _flat(text: str) -> str:
    return "".join(text.split())


def test_the_receipt_shows_the_body_the_reference_and_every_answer(tmp_path: Path) -> None:
    pdf = receipt_pdf(_submission(), CHIYODA)

    assert pdf.startswith(b"%PDF-")
    text = _text(pdf, tmp_path)
    assert "千代田区" in text and "Chiyoda City" not in text
    assert "子育て応援給付金の申請" in text
    assert "7KQ2-9XMD-R" in text
    assert "2026年11月28日 (令和8年) 13:05" in text
    assert "山田 花子（ヤマダ ハナコ）" in text
    assert "●●●● ●●●● 9018" in text and "token-never-shown" not in text
    assert "二人の子どもを育てています。" in text
    assert "2020年4月1日 (令和2年)" in text  # inside the group's item
    assert "子どもの人数" in text  # the computed value
    assert "申請を受け付けました。審査の結果をお知らせします。" in text
    assert "1/1" in _flat(text)  # page 1 of 1
    assert said("Reference number") in text


@pytest.mark.skipif(receipts.receipt_font() != receipts.FONT_NAME, reason="no IPA font here")
def test_the_japanese_font_is_embedded(tmp_path: Path) -> None:
    fonts = _fonts(receipt_pdf(_submission(), CHIYODA), tmp_path)
    assert len(fonts) == 1
    name, kind, *_rest, embedded, subset, _unicode, _obj, _gen = fonts[0]
    assert name.endswith("+IPAexGothic") or name.endswith("+IPAGothic")
    assert (kind, embedded, subset) == ("TrueType", "yes", "yes")


def test_an_english_applicant_gets_english_labels_beside_the_japanese(tmp_path: Path) -> None:
    text = _text(receipt_pdf(_submission(language="en"), CHIYODA), tmp_path)
    assert "千代田区 / Chiyoda City" in text
    assert "子育て応援給付金の申請 / Child-raising grant application" in text
    assert "氏名 / Name" in text and "子の氏名 / Child's name" in text
    assert "山田 花子（ヤマダ ハナコ）" in text  # answers stay as they were given


def test_a_long_answer_wraps_and_continues_on_the_next_pages(tmp_path: Path) -> None:
    long = "".join(f"第{n}段落：子育ての支援について意見を述べます。" for n in range(1, 301))
    pdf = receipt_pdf(_submission({**ANSWERS, "note": long}), CHIYODA)

    pages = _pages(pdf, tmp_path)
    assert pages >= 3
    flat = _flat(_text(pdf, tmp_path))
    for number in range(1, pages + 1):  # each page's footer, between the paragraph's parts
        assert f"{number}/{pages}" in flat
        flat = flat.replace(f"{number}/{pages}", "", 1)
    flat = flat.replace(_flat(f"{said('Reference number')}: 7KQ2-9XMD-R"), "")
    assert _flat(long) in flat
    text = _text(pdf, tmp_path)
    assert max(len(line) for line in text.splitlines()) < 60  # wrapped, not one long line


def test_the_same_submission_gives_the_same_bytes() -> None:
    submission = _submission()
    assert receipt_pdf(submission, CHIYODA) == receipt_pdf(submission, CHIYODA)


def test_without_an_ipa_font_the_built_in_cid_font_is_used_and_a_warning_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(receipts, "FONT_PATHS", (str(tmp_path / "missing.ttf"),))
    receipts.receipt_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=receipts.__name__):
            pdf = receipt_pdf(_submission(), CHIYODA)
            receipt_pdf(_submission(), CHIYODA)
    finally:
        receipts.receipt_font.cache_clear()
    warnings = [r for r in caplog.records if "fonts-ipaexfont-gothic" in r.getMessage()]
    assert len(warnings) == 1  # once, not per receipt
    assert [font[0] for font in _fonts(pdf, tmp_path)] == ["HeiseiKakuGo-W5"]
    assert "山田 花子" in _text(pdf, tmp_path)


def _journey_receipt_url(client: TestClient) -> str:
    check = opinions(client, about_you(client, start(client)))
    response, _receipt = send(
        client, check, {"declaration_confirmed": "yes"}, action_ends="/submit"
    )
    assert response.status_code == 200
    return str(response.url.path) + "/receipt.pdf"


def test_the_browser_that_submitted_downloads_its_receipt(
    client: TestClient, tmp_path: Path
) -> None:
    url = _journey_receipt_url(client)

    answer = client.get(url)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text = _text(answer.content, tmp_path)
    reference = next(line for line in text.splitlines() if line.count("-") == 2 and len(line) == 11)
    assert (
        answer.headers["content-disposition"] == f'attachment; filename="receipt-{reference}.pdf"'
    )
    assert "総務省" in text
    assert "子どもが安心して使える仕組みを整えてください。" in text

    elsewhere = url.replace("/bodies/soumu/", "/bodies/meti/")
    assert client.get(elsewhere).status_code == 404
    assert client.get(url.replace(url.split("/")[4], "not-an-id")).status_code == 404
    client.cookies.clear()  # another browser: the same address finds nothing
    assert client.get(url).status_code == 404
