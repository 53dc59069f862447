"""Uploaded files, kept outside the database in a content-addressed store.

Each file is named by the SHA-256 of its content under ``<data_dir>/files/<first 2 hex>/``, so
the same content is stored once and a name can always be checked against what it holds. Writes go
to a temporary file in the same folder, are flushed to disk, then renamed into place: a crash
leaves either the whole file or none. Reads verify the checksum.

The media type is always sniffed from the content's first bytes (``sniff_media_type``), never
taken from the file's name or the Content-Type a client sent: a program renamed ``.pdf`` is
still a program.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from madoguchi.core.errors import NotFound
from madoguchi.core.settings import Settings

OCTET_STREAM = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_OFFICE_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX))
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}


class CorruptFile(RuntimeError):
    """A stored file no longer matches its checksum: the disk, not the person, is at fault."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str


def is_file_id(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))


def sniff_media_type(data: bytes) -> str:
    """The media type that the content shows, or application/octet-stream."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    if _is_text(data):
        return "text/plain"
    return OCTET_STREAM


def _office_type(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return OCTET_STREAM
    if "[Content_Types].xml" in names:
        for part, media_type in _OFFICE_PARTS:
            if part in names:
                return media_type
    return "application/zip"


def _is_text(data: bytes) -> bool:
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in _TEXT_CONTROLS for ch in text.removeprefix("\ufeff"))


class FileStore:
    """Files by checksum under one folder; safe to share between requests and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        return cls(settings.data_dir / "files")

    def store(self, data: bytes) -> StoredFile:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        return StoredFile(sha256, len(data), sniff_media_type(data))

    def exists(self, sha256: str) -> bool:
        return is_file_id(sha256) and self._path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The content, verified against its checksum."""
        data = self._existing(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CorruptFile(f"the stored file {sha256} does not match its checksum")
        return data

    def open(self, sha256: str) -> BinaryIO:
        """A stream for sending the file on; ``read`` when the content must be trusted."""
        return self._existing(sha256).open("rb")

    def info(self, sha256: str) -> StoredFile:
        data = self.read(sha256)
        return StoredFile(sha256, len(data), sniff_media_type(data))

    def _existing(self, sha256: str) -> Path:
        if not self.exists(sha256):
            raise NotFound("No file is stored with the id {file_id}.", field="file", file_id=sha256)
        return self._path(sha256)

    def _path(self, sha256: str) -> Path:
        if not is_file_id(sha256):
            raise ValueError("a file id is the 64 lower-case hex digits of its SHA-256")
        return self.root / sha256[:2] / sha256


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
