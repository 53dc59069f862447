"""Software keys: sealed under the application secret in their handle, opened only with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from madoguchi.core.crypto import DecryptionError, decrypt_text, encrypt_text
from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import SigningKey, UnknownKey, generate_key, load_key
from madoguchi.signatures.keys.software import PURPOSE, SoftwareKey, SoftwareKeys
from tests.conftest import TEST_SECRET

OTHER_SECRET = "another-secret-key-that-is-also-long-enough-for-production"
DATA = "交付決定通知書".encode()


@pytest.fixture(scope="module")
def soft_key() -> SoftwareKey:
    return SoftwareKeys(TEST_SECRET).generate("official seal")


def verifies(key: SigningKey, signature: bytes, data: bytes) -> bool:
    try:
        key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def test_a_signature_verifies_with_the_public_key(soft_key: SoftwareKey) -> None:
    signature = soft_key.sign(DATA)

    assert verifies(soft_key, signature, DATA)
    assert not verifies(soft_key, signature, DATA + b".")
    assert soft_key.public_key().key_size == 2048


def test_the_handle_opens_the_same_key_with_the_same_secret(soft_key: SoftwareKey) -> None:
    found = SoftwareKeys(TEST_SECRET).load(soft_key.handle)

    assert found.public_key().public_numbers() == soft_key.public_key().public_numbers()
    assert verifies(soft_key, found.sign(DATA), DATA)


def test_the_handle_does_not_open_with_another_secret(soft_key: SoftwareKey) -> None:
    with pytest.raises(DecryptionError):
        SoftwareKeys(OTHER_SECRET).load(soft_key.handle)


def test_an_altered_handle_does_not_open(soft_key: SoftwareKey) -> None:
    sealed = soft_key.handle.removeprefix("soft:")
    flipped = "A" if sealed[40] != "A" else "B"

    with pytest.raises(DecryptionError):
        SoftwareKeys(TEST_SECRET).load(f"soft:{sealed[:40]}{flipped}{sealed[41:]}")


def test_the_handle_shows_nothing_of_the_key(soft_key: SoftwareKey) -> None:
    """Sealed, not encoded: no PEM text, and no run of the key's base64 survives in it."""
    pem = decrypt_text(soft_key.handle.removeprefix("soft:"), PURPOSE, TEST_SECRET)
    body = "".join(pem.splitlines()[1:-1])

    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert not re.search("BEGIN|PRIVATE|KEY", soft_key.handle)
    assert not any(body[at : at + 12] in soft_key.handle for at in range(0, len(body) - 12, 4))


@pytest.mark.parametrize("handle", ["soft:", "pkcs11:0011", "abcd"])
def test_a_handle_that_is_not_a_software_key_is_unknown(handle: str) -> None:
    with pytest.raises(UnknownKey):
        SoftwareKeys(TEST_SECRET).load(handle)


def test_a_sealed_key_that_is_not_rsa_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    handle = "soft:" + encrypt_text(pem.decode("ascii"), PURPOSE, TEST_SECRET)

    with pytest.raises(UnknownKey, match="not RSA"):
        SoftwareKeys(TEST_SECRET).load(handle)


def test_new_keys_are_software_keys_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET)

    key = generate_key(settings, "e-seal")

    assert key.handle.startswith("soft:")
    assert verifies(key, load_key(settings, key.handle).sign(DATA), DATA)
    with pytest.raises(DecryptionError):
        load_key(Settings(data_dir=tmp_path, secret_key=OTHER_SECRET), key.handle)


def test_pkcs11_keys_without_a_module_are_a_clear_error(tmp_path: Path) -> None:
    from madoguchi.signatures.keys import generate_key

    settings = Settings(data_dir=tmp_path, secret_key="s" * 40, signing_keys="pkcs11")
    with pytest.raises(ValueError, match="MADOGUCHI_PKCS11_MODULE"):
        generate_key(settings, "a key")
