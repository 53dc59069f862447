"""The My Number key ring: the key file, rotation, tampering and wrong keys refused, the keyed
hash, masking, and that nothing but this module opens a sealed number."""

from __future__ import annotations

import ast
import base64
import functools
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import madoguchi
from madoguchi.core.crypto import DecryptionError, decrypt_text, derive_key, encrypt_text
from madoguchi.core.my_number_keys import (
    KeyFileError,
    KeyRing,
    MyNumberPurpose,
    key_file_path,
    key_id_of,
    key_ring,
    mask_my_numbers,
    new_key_file_content,
    parse_key_file,
    read_key_file,
    reseal,
    reveal,
    rotate_key_file,
    write_key_file,
)
from madoguchi.core.settings import Settings
from tests.support.my_numbers import new_key_ring, opened

VALID = "123456789018"
OTHER = "234567890121"
SECRET = "a-test-secret-that-is-long-enough-to-use"
SOURCE = Path(madoguchi.__file__).parent


def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    write_key_file(path, new_key_file_content())
    return path


def raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def token_of(data: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


# --- Sealing, the keyed hash, rotation ---------------------------------------------------------


def test_a_sealed_number_carries_its_key_id_and_opens_again() -> None:
    keys = new_key_ring()
    sealed = keys.seal(VALID)
    assert set(sealed) == {"encrypted", "lookup", "last4"} and sealed["last4"] == "9018"
    assert VALID not in json.dumps(sealed)
    assert key_id_of(sealed["encrypted"]) == keys.active
    assert keys.seal(VALID)["encrypted"] != sealed["encrypted"]  # a fresh nonce each time
    assert opened(keys, sealed["encrypted"]) == VALID


def test_the_keyed_hash_matches_the_same_number_only_under_the_same_lookup_key() -> None:
    keys = new_key_ring()
    assert keys.lookup(VALID) == keys.seal(VALID)["lookup"] == keys.lookup(VALID)
    assert keys.lookup(VALID) != keys.lookup(OTHER)
    assert new_key_ring().lookup(VALID) != keys.lookup(VALID)
    assert len(keys.lookup(VALID)) == 64
    with pytest.raises(ValueError, match="12 ASCII digits"):
        keys.lookup("1234")


def test_rotation_keeps_old_numbers_readable_and_seals_new_ones_under_the_new_key(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, my_number_key_file=key_file(tmp_path))
    before = key_ring(settings)
    old = before.seal(VALID)
    new_id = rotate_key_file(key_file_path(settings))
    after = key_ring(settings)  # read again: the file changed
    assert after.active == new_id != before.active
    assert after.key_ids == sorted([before.active, new_id])
    new = after.seal(OTHER)
    assert key_id_of(new["encrypted"]) == new_id
    assert key_id_of(old["encrypted"]) == before.active
    assert opened(after, old["encrypted"]) == VALID
    assert opened(after, new["encrypted"]) == OTHER
    assert after.lookup(VALID) == old["lookup"]  # the lookup key is never rotated
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600


def test_reseal_moves_a_number_to_the_active_key_and_leaves_current_ones(tmp_path: Path) -> None:
    path = key_file(tmp_path)
    first = read_key_file(path)
    old = first.seal(VALID)
    rotate_key_file(path)
    second = read_key_file(path)
    again = reseal(second, old["encrypted"])
    assert again is not None and key_id_of(again["encrypted"]) == second.active
    assert again["lookup"] == old["lookup"] and opened(second, again["encrypted"]) == VALID
    assert reseal(second, again["encrypted"]) is None


def test_reseal_reads_a_legacy_token_made_with_the_application_secret() -> None:
    nonce = os.urandom(12)
    header = bytes([1])
    sealed = AESGCM(derive_key("my_number", SECRET)).encrypt(
        nonce, VALID.encode(), header + b"my_number"
    )
    legacy = token_of(header + nonce + sealed)
    keys = new_key_ring()
    assert key_id_of(legacy) is None
    with pytest.raises(DecryptionError, match="needs the application secret"):
        reseal(keys, legacy)
    again = reseal(keys, legacy, SECRET)
    assert again is not None and opened(keys, again["encrypted"]) == VALID


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["ciphertext", "tag", "nonce", "key id length"])
def test_a_tampered_token_is_refused(where: str) -> None:
    keys = new_key_ring()
    data = raw(keys.seal(VALID)["encrypted"])
    key_end = 2 + data[1]
    position = {"key id length": 1, "nonce": key_end, "ciphertext": key_end + 12, "tag": -1}
    data[position[where]] ^= 0x01
    with pytest.raises(DecryptionError) as caught:
        opened(keys, token_of(data))
    assert VALID not in str(caught.value)


def test_a_token_relabelled_with_another_key_id_of_the_ring_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path)
    old = read_key_file(path)
    rotate_key_file(path)
    keys = read_key_file(path)
    data = raw(keys.seal(VALID)["encrypted"])
    relabelled = bytes(data[:2]) + old.active.encode() + bytes(data[2 + data[1] :])
    assert len(old.active) == data[1]
    with pytest.raises(DecryptionError, match="altered"):
        opened(keys, token_of(relabelled))


def test_a_key_id_missing_from_the_key_file_is_refused_by_name() -> None:
    sealed = new_key_ring().seal(VALID)["encrypted"]
    other = new_key_ring()
    with pytest.raises(DecryptionError, match=r"sealed under key 'k\d{8}-[0-9a-f]{4}'.*not in"):
        opened(other, sealed)


@pytest.mark.parametrize("token", ["", "***", "Ag", token_of(bytes([9]) + bytes(40))])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(DecryptionError):
        opened(new_key_ring(), token)


async def test_a_refused_token_records_nothing() -> None:
    recorded: list[MyNumberPurpose] = []

    async def record(purpose: MyNumberPurpose) -> None:
        recorded.append(purpose)

    sealed = new_key_ring().seal(VALID)["encrypted"]
    with pytest.raises(DecryptionError):
        await reveal(new_key_ring(), sealed, purpose=MyNumberPurpose.TAX, record=record)
    assert recorded == []


def test_the_general_field_encryption_refuses_the_my_number_purpose() -> None:
    with pytest.raises(ValueError, match="only by its own module"):
        encrypt_text(VALID, "my_number", SECRET)
    with pytest.raises(ValueError, match="only by its own module"):
        decrypt_text("AQ", "my_number", SECRET)


# --- The key file ------------------------------------------------------------------------------


def test_development_generates_the_key_file_once_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    first = key_ring(settings)
    path = tmp_path / "my_number_keys.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert key_ring(Settings(data_dir=tmp_path)).active == first.active
    assert json.loads(path.read_text())["format"] == "madoguchi.my_number_keys/1"
    assert [p.name for p in tmp_path.iterdir()] == ["my_number_keys.json"]  # no temporary left


def test_production_refuses_to_run_without_a_key_file(tmp_path: Path) -> None:
    settings = Settings.model_construct(environment="production", data_dir=tmp_path)
    with pytest.raises(KeyFileError, match="MY_NUMBER_KEY_FILE must be set in production"):
        key_ring(settings)
    missing = Settings.model_construct(
        environment="production", data_dir=tmp_path, my_number_key_file=tmp_path / "none.json"
    )
    with pytest.raises(KeyFileError, match="cannot be read"):
        key_ring(missing)


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"readable by others.*chmod 600"):
        key_ring(Settings(data_dir=tmp_path, my_number_key_file=path))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(format="other"), "not a key file"),
        (lambda d: d.update(keys={}), "has no keys"),
        (lambda d: d.update(active="k-none"), "active key 'k-none' is not among"),
        (lambda d: d.update(lookup_key="c2hvcnQ="), "lookup_key must be base64 of 32 bytes"),
        (lambda d: d["keys"].update({"Bad Id": d["lookup_key"]}), "'Bad Id' is not a key id"),
    ],
)
def test_a_malformed_key_file_is_refused_clearly(change: object, problem: str) -> None:
    data = new_key_file_content()
    change(data)  # type: ignore[operator]
    with pytest.raises(KeyFileError, match=problem) as caught:
        parse_key_file(json.dumps(data))
    assert data["lookup_key"] not in str(caught.value)
    with pytest.raises(KeyFileError, match="not JSON"):
        parse_key_file("{")


def test_keys_never_show_in_repr() -> None:
    data = new_key_file_content()
    ring = parse_key_file(json.dumps(data))
    shown = repr(ring)
    assert ring.active in shown
    assert all(key not in shown for key in [*data["keys"].values(), data["lookup_key"]])


# --- Masking ----------------------------------------------------------------------------------


def test_valid_my_numbers_in_text_are_masked_and_other_digits_kept() -> None:
    assert mask_my_numbers(f"number {VALID}.") == "number ●●●●●●●●9018."
    assert mask_my_numbers("１２３４５６７８９０１８") == "●●●●●●●●９０１８"
    assert mask_my_numbers("123456789012 and 9" + VALID) == "123456789012 and 9" + VALID
    assert mask_my_numbers("no digits") == "no digits"


# --- Nothing else decrypts ---------------------------------------------------------------------


@functools.cache
def _names() -> list[tuple[str, list[ast.AST]]]:
    return [
        (str(path.relative_to(SOURCE)), list(ast.walk(ast.parse(path.read_text("utf-8")))))
        for path in SOURCE.rglob("*.py")
    ]


def _uses(name: str) -> set[str]:
    """The modules of src/madoguchi whose code names ``name`` (imported or as an attribute)."""
    found = set()
    for module, nodes in _names():
        for node in nodes:
            named = (
                (isinstance(node, ast.alias) and node.name == name)
                or (isinstance(node, ast.Attribute) and node.attr == name)
                or (isinstance(node, ast.Name) and node.id == name)
            )
            if named:
                found.add(module)
    return found


def test_only_the_key_module_opens_a_sealed_number() -> None:
    assert _uses("_unseal") == {"core/my_number_keys.py"}
    assert _uses("_unseal_legacy") == {"core/my_number_keys.py"}


def test_only_the_audited_service_reveals_a_number() -> None:
    assert _uses("reveal") == {"identity/my_number.py"}  # its definition is not a use
    assert _uses("reveal_my_number") - {"identity/my_number.py"} == {
        "submissions/staff_pages/my_number.py"
    }


def test_a_key_ring_needs_its_active_key() -> None:
    with pytest.raises(KeyFileError, match="not among the keys"):
        KeyRing("k1", {"k2": bytes(32)}, bytes(32))
