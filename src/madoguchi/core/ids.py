"""Identifiers: UUIDv7 keys, ordered by creation time so that indexes stay compact."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value &= ~(0xF000 << 64)
    value |= 0x7000 << 64  # version 7
    value &= ~(0xC << 60)
    value |= 0x8 << 60  # RFC 4122 variant
    return uuid.UUID(int=value)
