"""File answers: uploads are judged by their content, and their size and number are limited."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.errors import InvalidInput
from madoguchi.core.files import FileStore
from madoguchi.core.settings import Settings
from madoguchi.procedures.answers import AnswerContext, parse_answer
from madoguchi.procedures.answers.uploads import (
    MAX_NAME_LENGTH,
    MEGABYTE,
    accept_upload,
    clean_file_name,
    file_answer,
)
from madoguchi.procedures.definition import FileUpload, LocalText
from tests.support.samples import EXE, PDF, PNG

LABEL = LocalText(ja="添付書類")


def question(**limits: object) -> FileUpload:
    return FileUpload.model_validate({"type": "file", "id": "attachment", "label": LABEL} | limits)


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


def test_an_accepted_upload_is_stored_and_described(store: FileStore) -> None:
    described = accept_upload(question(), "C:\\Users\\申請者\\住民票.pdf", PDF, store)
    assert described == {
        "ref": f"{described['id']}/住民票.pdf",
        "id": described["id"],
        "name": "住民票.pdf",
        "size": len(PDF),
        "media_type": "application/pdf",
    }
    assert store.read(described["id"]) == PDF


def test_a_program_renamed_pdf_is_refused_and_not_stored(store: FileStore) -> None:
    with pytest.raises(InvalidInput, match=r"invoice\.pdf is not a type of file we can recognise"):
        accept_upload(question(), "invoice.pdf", EXE, store)
    assert not store.root.exists()


def test_a_type_the_question_does_not_accept_is_named(store: FileStore) -> None:
    with pytest.raises(
        InvalidInput, match=r"photo\.pdf is a PNG file\. Attach one of: PDF"
    ) as caught:
        accept_upload(question(accept=["application/pdf"]), "photo.pdf", PNG, store)
    assert caught.value.field == "attachment"


def test_text_is_named_as_such() -> None:
    with pytest.raises(InvalidInput, match=r"is a text file\. Attach one of: PDF, JPEG, PNG"):
        accept_upload(question(), "memo.pdf", "メモ".encode(), FileStore(Path("unused")))


def test_a_file_over_the_limit_names_the_file_and_the_limit(store: FileStore) -> None:
    big = PDF + bytes(MEGABYTE)
    with pytest.raises(InvalidInput, match=r"big.pdf is 1.1 MB; .* at most 0.5 MB") as caught:
        accept_upload(question(max_size_mb=0.5), "big.pdf", big, store)
    assert caught.value.field == "attachment"
    assert accept_upload(question(max_size_mb=2), "big.pdf", big, store)["size"] == len(big)


def test_an_empty_file_is_refused(store: FileStore) -> None:
    with pytest.raises(InvalidInput, match=r"The file empty\.pdf is empty"):
        accept_upload(question(), "empty.pdf", b"", store)


def test_the_answer_lists_the_files_checked_again(store: FileStore) -> None:
    pdf = accept_upload(question(max_files=2), "a.pdf", PDF, store)
    png = accept_upload(question(max_files=2), "b.png", PNG, store)
    answer = file_answer(question(max_files=2), [pdf["ref"], " ", png["id"]], store)
    assert answer == [
        {"id": pdf["id"], "name": "a.pdf", "size": len(PDF), "media_type": "application/pdf"},
        {"id": png["id"], "name": png["id"][:12], "size": len(PNG), "media_type": "image/png"},
    ]
    assert file_answer(question(), pdf["ref"], store)[0]["name"] == "a.pdf"


def test_too_many_files_are_refused_with_the_limit(store: FileStore) -> None:
    refs = [
        accept_upload(question(max_files=3), f"{n}.pdf", PDF + bytes(n), store)["ref"]
        for n in range(3)
    ]
    with pytest.raises(InvalidInput, match="at most 2 files to this question; you attached 3"):
        file_answer(question(max_files=2), refs, store)


def test_a_file_not_in_the_store_is_asked_for_again(store: FileStore) -> None:
    for ref in ["0" * 64 + "/lost.pdf", "../../etc/passwd/lost.pdf", "not-an-id/lost.pdf"]:
        with pytest.raises(InvalidInput, match=r"The file lost\.pdf could not be found") as caught:
            file_answer(question(), [ref], store)
        assert caught.value.field == "attachment"


def test_the_answer_enforces_the_limits_an_api_client_might_skip(store: FileStore) -> None:
    exe = store.store(EXE)
    with pytest.raises(InvalidInput, match=r"setup\.pdf is not a type of file"):
        file_answer(question(), [f"{exe.sha256}/setup.pdf"], store)
    big = store.store(PDF + bytes(2 * MEGABYTE))
    with pytest.raises(InvalidInput, match="at most 1 MB"):
        file_answer(question(max_size_mb=1), [f"{big.sha256}/big.pdf"], store)


def test_a_mapping_is_no_files(store: FileStore) -> None:
    assert file_answer(question(), {"file": "x"}, store) == []


def test_the_registered_parser_uses_the_context_s_file_store(tmp_path: Path) -> None:
    context = AnswerContext.of(Settings(data_dir=tmp_path / "data"))
    described = accept_upload(question(), "a.pdf", PDF, context.store)
    assert parse_answer(question(), [described["ref"]], context)[0]["id"] == described["id"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\fakepath\\申請書.pdf", "申請書.pdf"),
        ("ﾌｧｲﾙ.pdf", "ﾌｧｲﾙ.pdf"),
        ("a\x00b\u202e.pdf", "ab.pdf"),
        ("...", "file"),
        ("", "file"),
        ("x" * 200 + ".pdf", "x" * (MAX_NAME_LENGTH - 4) + ".pdf"),
        ("x" * 200, "x" * MAX_NAME_LENGTH),
    ],
)
def test_file_names_are_cleaned(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@given(st.text())
def test_a_cleaned_name_is_a_single_short_path_part(sent: str) -> None:
    name = clean_file_name(sent)
    assert 0 < len(name) <= MAX_NAME_LENGTH
    assert "/" not in name and "\\" not in name and name not in {".", ".."}
