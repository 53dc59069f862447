"""The content-addressed file store and media-type sniffing from the content's own bytes."""

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from madoguchi.core.errors import NotFound
from madoguchi.core.files import (
    DOCX,
    XLSX,
    CorruptFile,
    FileStore,
    StoredFile,
    is_file_id,
    sniff_media_type,
)
from madoguchi.core.settings import Settings
from tests.support.samples import EXE, JPEG, PDF, PNG


def office_file(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (office_file("[Content_Types].xml", "word/document.xml"), DOCX),
        (office_file("[Content_Types].xml", "xl/workbook.xml"), XLSX),
        (office_file("[Content_Types].xml", "ppt/presentation.xml"), "application/zip"),
        (office_file("word/document.xml"), "application/zip"),
        (b"PK\x03\x04 not really a zip", "application/octet-stream"),
        ("申請書の控え\n金額\t1,000円\r\n".encode(), "text/plain"),
        ("\ufeffBOM付きのテキスト".encode(), "text/plain"),
        ("申請".encode("shift_jis"), "application/octet-stream"),
        (b"text with a \x00 NUL", "application/octet-stream"),
        (b"", "application/octet-stream"),
        (EXE, "application/octet-stream"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),
    ],
)
def test_the_media_type_comes_from_the_content(data: bytes, media_type: str) -> None:
    assert sniff_media_type(data) == media_type


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


def test_a_file_is_stored_under_its_checksum(store: FileStore) -> None:
    stored = store.store(PDF)
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored == StoredFile(digest, len(PDF), "application/pdf")
    assert (store.root / digest[:2] / digest).read_bytes() == PDF
    assert store.read(digest) == PDF
    assert store.info(digest) == stored
    with store.open(digest) as handle:
        assert handle.read() == PDF


def test_the_same_content_is_stored_once(store: FileStore) -> None:
    first, second = store.store(PNG), store.store(PNG)
    assert first == second
    assert [path.name for path in store.root.rglob("*") if path.is_file()] == [first.sha256]


def test_no_temporary_file_is_left_behind(store: FileStore) -> None:
    store.store(PDF)
    store.store(PNG)
    assert not list(store.root.rglob(".upload-*"))


def test_a_failed_write_leaves_nothing(store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        store.store(PDF)
    assert not [path for path in store.root.rglob("*") if path.is_file()]
    assert not store.exists(hashlib.sha256(PDF).hexdigest())


def test_a_file_changed_on_disk_is_refused_on_read(store: FileStore) -> None:
    stored = store.store(PDF)
    (store.root / stored.sha256[:2] / stored.sha256).write_bytes(PDF + b"tampered")
    with pytest.raises(CorruptFile, match="does not match its checksum"):
        store.read(stored.sha256)


@pytest.mark.parametrize("file_id", ["0" * 64, "../" + "0" * 61, "A" * 64, "abc", ""])
def test_an_unknown_or_malformed_id_is_not_found(store: FileStore, file_id: str) -> None:
    assert not store.exists(file_id)
    with pytest.raises(NotFound, match="No file is stored with the id") as caught:
        store.read(file_id)
    assert caught.value.field == "file"
    with pytest.raises(NotFound):
        store.open(file_id)


def test_file_ids_are_lower_case_sha256_hex() -> None:
    assert is_file_id(hashlib.sha256(b"").hexdigest())
    assert not is_file_id(hashlib.sha256(b"").hexdigest().upper())
    with pytest.raises(ValueError, match="64 lower-case hex"):
        FileStore(Path("unused"))._path("../etc/passwd")


def test_the_store_lives_in_the_data_folder(tmp_path: Path) -> None:
    store = FileStore.from_settings(Settings(data_dir=tmp_path / "data"))
    assert store.root == tmp_path / "data" / "files"
