"""My Number keys for tests: a key ring of a test's own, and reading a sealed number back through
the one public way (``reveal``, which needs an audit record; here the record is kept in a list)."""

from __future__ import annotations

import asyncio
import json

from madoguchi.core.my_number_keys import (
    KeyRing,
    MyNumberPurpose,
    new_key_file_content,
    parse_key_file,
    reveal,
)


def new_key_ring() -> KeyRing:
    return parse_key_file(json.dumps(new_key_file_content()))


def opened(keys: KeyRing, token: str) -> str:
    """The digits of ``token``, read as a test would check them (the record is discarded)."""
    recorded: list[MyNumberPurpose] = []

    async def record(purpose: MyNumberPurpose) -> None:
        recorded.append(purpose)

    digits = asyncio.run(reveal(keys, token, purpose=MyNumberPurpose.TAX, record=record))
    assert recorded == [MyNumberPurpose.TAX]
    return digits
