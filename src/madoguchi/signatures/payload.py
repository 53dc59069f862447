"""What a resident signs at submit time.

What is signed is the RFC 8785 (JCS) canonical JSON of the answers with the tenant, the
procedure and its version, and a ``format`` member naming this layout, so the bytes say what
they are and can be rebuilt by anyone from the stored answers with any JCS library.
Answers are plain JSON values; two kinds are refused rather than quietly changed:

- floats: JCS writes them in ECMAScript's shortest form, so ``0.1`` is signed as the binary
  double nearest 0.1 and whether a re-parsed float round-trips depends on the other side's
  number handling. Form answers that are decimals (amounts, areas) travel as text, which is
  signed exactly as the resident saw it; whole numbers outside JavaScript's safe range
  (±2**53 − 1) are refused for the same reason (JCS cannot carry them);
- text that is not NFC: JCS signs strings as they are and the platform normalises text to NFC
  where it comes in, so a non-NFC string here means the stored answers and the signed bytes
  could part ways. It is a bug to surface, not to paper over.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import rfc8785

from madoguchi.core.errors import InvalidInput
from madoguchi.core.i18n import N_

PAYLOAD_FORMAT = "madoguchi-signed-answers/1"
SAFE_INTEGER = 2**53 - 1


def signing_payload(
    *, tenant_code: str, procedure_id: str, procedure_version: int, answers: Mapping[str, Any]
) -> bytes:
    """The exact bytes a resident signs for these answers: RFC 8785 canonical JSON."""
    if isinstance(procedure_version, bool) or not isinstance(procedure_version, int):
        raise InvalidInput(N_("The procedure version must be a whole number."), field="version")
    document = {
        "format": PAYLOAD_FORMAT,
        "tenant": _json_value(tenant_code, "tenant"),
        "procedure": _json_value(procedure_id, "procedure"),
        "version": _json_value(procedure_version, "version"),
        "answers": _json_object(answers, "answers"),
    }
    return rfc8785.dumps(document)


def _json_value(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _safe_integer(value, path)
    if isinstance(value, float):
        raise _unsignable(
            N_("The answer at {path} is a decimal number; sign decimals as text."), path
        )
    if isinstance(value, str):
        return _nfc_text(value, path)
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        return _json_object(value, path)
    kind = type(value).__name__
    raise _unsignable(
        N_("The answer at {path} is a {kind}, which JSON cannot hold."), path, kind=kind
    )


def _json_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _unsignable(N_("{path} must be a JSON object."), path)
    for key in value:
        if not isinstance(key, str):
            raise _unsignable(N_("{path} has a key that is not text: {key!r}."), path, key=key)
        _nfc_text(key, f"{path} (a key)")
    return {key: _json_value(item, f"{path}.{key}") for key, item in value.items()}


def _safe_integer(value: int, path: str) -> int:
    if -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return value
    raise _unsignable(N_("The answer at {path} is a whole number too large to sign exactly."), path)


def _nfc_text(value: str, path: str) -> str:
    if not unicodedata.is_normalized("NFC", value):
        raise _unsignable(N_("The text at {path} is not in Unicode NFC form."), path)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _unsignable(N_("The text at {path} holds a lone surrogate."), path) from None
    return value


def _unsignable(message: str, path: str, **params: Any) -> InvalidInput:
    return InvalidInput(message, field=path, path=path, **params)
