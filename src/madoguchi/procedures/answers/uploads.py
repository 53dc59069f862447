"""File answers: uploads checked against the question's limits by what the content is.

A page or the API receives each upload and calls ``accept_upload``: it enforces the size limit and
the accepted media types (sniffed from the content by ``core.files``), stores the file and
returns its description, whose ``ref`` goes back into the form (a hidden field, without
JavaScript). The answer's raw value is then the list of those refs, ``"<sha256>/<file name>"``
(a bare ``"<sha256>"`` is accepted too); the ``file`` parser checks them again against the store
and the question — the number of files as well — so an API client cannot skip the checks.
"""

from __future__ import annotations

import math
import posixpath
import unicodedata
from typing import Any

from madoguchi.core.errors import InvalidInput
from madoguchi.core.files import OCTET_STREAM, FileStore, is_file_id, sniff_media_type
from madoguchi.core.text import nfc
from madoguchi.procedures.answers import AnswerContext, Raw, parser

MAX_NAME_LENGTH = 120
MEGABYTE = 1024 * 1024
_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "text/plain": "text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
}


def accept_upload(question: Any, filename: str, data: bytes, store: FileStore) -> dict[str, Any]:
    """Check one uploaded file against the question, store it and describe it."""
    name = clean_file_name(filename)
    _check_size(question, name, len(data))
    media_type = sniff_media_type(data)
    _check_type(question, name, media_type)
    stored = store.store(data)
    return {
        "ref": f"{stored.sha256}/{name}",
        "id": stored.sha256,
        "name": name,
        "size": stored.size,
        "media_type": stored.media_type,
    }


def file_answer(question: Any, raw: Raw, store: FileStore) -> list[dict[str, Any]]:
    """The files an answer names, each checked again: ``[{"id", "name", "size", "media_type"}]``."""
    refs = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    refs = [ref.strip() for ref in refs if ref.strip()]
    if len(refs) > question.max_files:
        raise InvalidInput(
            "You can attach at most {most} files to this question; you attached {count}.",
            field=question.id,
            most=question.max_files,
            count=len(refs),
        )
    return [_stored_answer(question, ref, store) for ref in refs]


@parser("file", context=True)
def parse_file(question: Any, raw: Raw, context: AnswerContext) -> list[dict[str, Any]]:
    return file_answer(question, raw, context.store)


def clean_file_name(filename: str) -> str:
    """The last part of the name a browser sent, without control characters, not too long."""
    base = posixpath.basename(nfc(filename).replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, extension = base.rpartition(".")
        keep = MAX_NAME_LENGTH - len(dot + extension) if dot and len(extension) <= 10 else 0
        base = stem[:keep] + dot + extension if keep > 0 else base[:MAX_NAME_LENGTH]
    return base or "file"


def _stored_answer(question: Any, ref: str, store: FileStore) -> dict[str, Any]:
    file_id, _, typed_name = ref.partition("/")
    name = clean_file_name(typed_name) if typed_name else file_id[:12]
    if not (is_file_id(file_id) and store.exists(file_id)):
        raise InvalidInput(
            "The file {name} could not be found: upload it again.", field=question.id, name=name
        )
    stored = store.info(file_id)
    _check_size(question, name, stored.size)
    _check_type(question, name, stored.media_type)
    return {"id": file_id, "name": name, "size": stored.size, "media_type": stored.media_type}


def _check_size(question: Any, name: str, size: int) -> None:
    if size == 0:
        raise InvalidInput("The file {name} is empty.", field=question.id, name=name)
    if size > question.max_size_mb * MEGABYTE:
        raise InvalidInput(
            "The file {name} is {size} MB; files for this question can be at most {most} MB.",
            field=question.id,
            name=name,
            size=f"{math.ceil(size * 10 / MEGABYTE) / 10:.1f}",  # 10.01 MB shows as 10.1
            most=f"{question.max_size_mb:g}",
        )


def _check_type(question: Any, name: str, media_type: str) -> None:
    if media_type in question.accept:
        return
    accepted = ", ".join(_LABELS.get(item, item) for item in question.accept)
    if media_type == OCTET_STREAM:
        raise InvalidInput(
            "The file {name} is not a type of file we can recognise. Attach one of: {accepted}.",
            field=question.id,
            name=name,
            accepted=accepted,
        )
    raise InvalidInput(
        "The file {name} is a {found} file. Attach one of: {accepted}.",
        field=question.id,
        name=name,
        found=_LABELS.get(media_type, media_type),
        accepted=accepted,
    )
