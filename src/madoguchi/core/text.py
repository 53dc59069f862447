"""Text normalisation at the input boundary: NFC for storage, width and kana folding for search."""

from __future__ import annotations

import unicodedata

import jaconv

# Dashes people type between digits, in every width and script.
_DASHES = "-‐‑‒–—―−－ー─━ｰ"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold_width(text: str) -> str:
    """Full-width ASCII becomes half-width; half-width kana becomes full-width (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def search_key(text: str) -> str:
    """A form for matching: NFKC with case folding, hiragana as katakana, no spaces.

    NFKC runs before case folding (🄰 becomes A, then a) and after it (folding can leave a letter
    and a mark that NFKC joins), and once more after spaces are removed, because removing a space
    can join a mark to the letter before it. Applying it twice changes nothing.
    """
    folded = jaconv.hira2kata(fold_width(fold_width(text).casefold()))
    return fold_width("".join(folded.split()))


def strip_separators(text: str) -> str:
    """Drop spaces, dashes and the postal mark that people put between digits."""
    return "".join(
        ch for ch in fold_width(text) if ch not in _DASHES and ch != "〒" and not ch.isspace()
    )
