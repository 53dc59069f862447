"""Field encryption: round trips, fresh tokens, and clear refusals of altered tokens or keys."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.crypto import (
    NONCE_BYTES,
    VERSION,
    DecryptionError,
    decrypt_text,
    derive_key,
    encrypt_text,
)

SECRET = "a-test-secret-that-is-long-enough-to-use"


def raw_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def as_token(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@given(st.text())
def test_any_text_comes_back_unchanged(text: str) -> None:
    assert decrypt_text(encrypt_text(text, "field", SECRET), "field", SECRET) == text


def test_the_same_text_encrypts_differently_each_time() -> None:
    tokens = {encrypt_text("123456789018", "field", SECRET) for _ in range(20)}
    assert len(tokens) == 20


def test_a_token_is_versioned_url_safe_text_without_the_plaintext() -> None:
    token = encrypt_text("123456789018", "field", SECRET)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "123456789018" not in token
    data = raw_bytes(token)
    assert data[0] == VERSION
    assert len(data) == 1 + NONCE_BYTES + len("123456789018") + 16


def test_purposes_have_different_keys() -> None:
    assert derive_key("field", SECRET) != derive_key("other_field", SECRET)
    assert len(derive_key("field", SECRET)) == 32
    token = encrypt_text("secret", "field", SECRET)
    with pytest.raises(DecryptionError, match="key or purpose"):
        decrypt_text(token, "other_field", SECRET)


def test_a_wrong_secret_is_refused() -> None:
    token = encrypt_text("secret", "field", SECRET)
    with pytest.raises(DecryptionError, match="key or purpose is wrong"):
        decrypt_text(token, "field", SECRET + "x")


@pytest.mark.parametrize("position", [1, NONCE_BYTES, NONCE_BYTES + 1, -1])
def test_any_altered_byte_is_refused(position: int) -> None:
    data = bytearray(raw_bytes(encrypt_text("secret text", "field", SECRET)))
    data[position] ^= 0x01
    with pytest.raises(DecryptionError, match="altered"):
        decrypt_text(as_token(bytes(data)), "field", SECRET)


@pytest.mark.parametrize(
    "token",
    ["", "AQ", as_token(bytes([VERSION]) + bytes(NONCE_BYTES + 15)), as_token(bytes(40))],
)
def test_short_tokens_and_unknown_versions_are_refused(token: str) -> None:
    with pytest.raises(DecryptionError, match="malformed or of an unknown version"):
        decrypt_text(token, "field", SECRET)


def test_text_that_is_not_base64_is_refused() -> None:
    with pytest.raises(DecryptionError, match="not base64url"):
        decrypt_text("ＡＢＣ", "field", SECRET)
    with pytest.raises(DecryptionError, match="not base64url"):
        decrypt_text("abcde", "field", SECRET)


def test_the_error_never_shows_the_token() -> None:
    token = encrypt_text("secret", "field", SECRET)
    with pytest.raises(DecryptionError) as caught:
        decrypt_text(token, "other", SECRET)
    assert token not in str(caught.value)
    assert token not in repr(caught.value)


@pytest.mark.parametrize("purpose", ["", "My Number", "x" * 64, "1abc"])
def test_a_purpose_must_be_a_short_label(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        encrypt_text("text", purpose, SECRET)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty secret"):
        encrypt_text("text", "field", "")
