"""The PKCS#11 backend on a real SoftHSM2 token: keys made there sign there and never leave.

Also the dispatch in ``madoguchi.signatures.keys``: new keys go where the settings say, and a
handle finds its backend by its prefix, whatever the settings say today.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pkcs11
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pkcs11 import Attribute, KeyType, MechanismFlag, ObjectClass, TokenFlag

from madoguchi.core.settings import Settings
from madoguchi.signatures.keys import SigningKey, UnknownKey, generate_key, load_key
from madoguchi.signatures.keys.pkcs11 import Pkcs11Key, Pkcs11Keys, SigningTokenUnavailable
from madoguchi.signatures.keys.software import SoftwareKeys
from tests.support.softhsm import SoftHsmToken

DATA = "申請書 (application) の署名対象".encode()


def verifies(key: SigningKey | rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    public = key if isinstance(key, rsa.RSAPublicKey) else key.public_key()
    try:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def keys_on(token: SoftHsmToken, pin: str | None = None) -> Pkcs11Keys:
    return Pkcs11Keys(token.module, token.label, token.pin if pin is None else pin)


@pytest.fixture(scope="module")
def token_key(softhsm_token: SoftHsmToken) -> Pkcs11Key:
    """One key for the tests that only read it (making a key takes a few tenths of a second)."""
    return keys_on(softhsm_token).generate("official seal of 札幌市")


def key_id(key: SigningKey) -> bytes:
    return bytes.fromhex(key.handle.removeprefix("pkcs11:"))


def token_session(token: SoftHsmToken, *, logged_in: bool = True) -> pkcs11.Session:
    """A session straight on the token, to look at what the backend made."""
    found = pkcs11.lib(token.module).get_token(token_label=token.label)
    return found.open(rw=True, user_pin=token.pin if logged_in else None)


def test_a_signature_made_on_the_token_verifies_with_its_public_key(token_key: Pkcs11Key) -> None:
    signature = token_key.sign(DATA)

    assert verifies(token_key, signature, DATA)
    assert not verifies(token_key, signature, DATA + b".")


def test_the_token_signs_pkcs1_v15_over_sha256_as_the_software_keys_do(
    token_key: Pkcs11Key,
) -> None:
    public = token_key.public_key()

    assert public.key_size == 2048
    assert public.public_numbers().e == 65537
    assert len(token_key.sign(b"")) == 256  # one RSA-2048 block, whatever the data's length
    assert verifies(token_key, token_key.sign(DATA * 10_000), DATA * 10_000)


def test_a_handle_finds_the_same_key_through_a_new_backend(
    token_key: Pkcs11Key, softhsm_settings: Settings
) -> None:
    found = Pkcs11Keys.from_settings(softhsm_settings).load(token_key.handle)

    assert found.handle == token_key.handle
    assert found.public_key().public_numbers() == token_key.public_key().public_numbers()
    assert verifies(token_key, found.sign(DATA), DATA)


def test_a_handle_finds_its_key_from_another_process(
    token_key: Pkcs11Key, softhsm_token: SoftHsmToken
) -> None:
    """The key is kept on the token (not in a session), and the handle is all it takes."""
    script = textwrap.dedent(
        """
        import sys
        from madoguchi.signatures.keys.pkcs11 import Pkcs11Keys
        module, label, pin, handle = sys.argv[1:]
        key = Pkcs11Keys(module, label, pin).load(handle)
        sys.stdout.write(key.sign(b"from another process").hex())
        """
    )
    arguments = [softhsm_token.module, softhsm_token.label, softhsm_token.pin, token_key.handle]
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert verifies(token_key, bytes.fromhex(done.stdout), b"from another process")


def test_every_key_gets_its_own_handle(softhsm_token: SoftHsmToken) -> None:
    keys = keys_on(softhsm_token)
    first, second = keys.generate("same label"), keys.generate("same label")

    assert first.handle != second.handle
    assert first.public_key().public_numbers() != second.public_key().public_numbers()
    assert verifies(first, keys.load(first.handle).sign(DATA), DATA)
    assert verifies(second, keys.load(second.handle).sign(DATA), DATA)


@pytest.mark.parametrize(
    "handle",
    [
        "pkcs11:" + "00" * 16,  # well formed, but the token has no such key
        "pkcs11:",
        "pkcs11:xyz",
        "pkcs11:abc",  # odd number of hex digits
        "pkcs11:ABCD",
        "soft:abcd",
        "abcd",
    ],
)
def test_a_handle_the_token_does_not_know_is_an_unknown_key(
    softhsm_token: SoftHsmToken, handle: str
) -> None:
    with pytest.raises(UnknownKey):
        keys_on(softhsm_token).load(handle)


def test_a_key_deleted_from_the_token_is_unknown_when_it_is_next_used(
    softhsm_token: SoftHsmToken,
) -> None:
    key = keys_on(softhsm_token).generate("to be deleted")
    with token_session(softhsm_token) as session:
        session.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, id=key_id(key)).destroy()

    with pytest.raises(UnknownKey, match="private key"):
        key.sign(DATA)
    with pytest.raises(UnknownKey, match="private key"):
        keys_on(softhsm_token).load(key.handle)


def test_a_key_the_token_lets_only_decrypt_is_refused(softhsm_token: SoftHsmToken) -> None:
    with token_session(softhsm_token) as session:
        session.generate_keypair(
            KeyType.RSA, 2048, id=b"decrypt-only", store=True, capabilities=MechanismFlag.DECRYPT
        )

    with pytest.raises(UnknownKey, match="may not sign"):
        keys_on(softhsm_token).load("pkcs11:" + b"decrypt-only".hex())


def test_two_keys_with_one_id_are_a_clear_error(softhsm_token: SoftHsmToken) -> None:
    with token_session(softhsm_token) as session:
        for _ in range(2):
            session.generate_keypair(KeyType.RSA, 2048, id=b"twice", store=True)

    with pytest.raises(SigningTokenUnavailable, match="failed: MultipleObjectsReturned"):
        keys_on(softhsm_token).load("pkcs11:" + b"twice".hex())


def test_a_wrong_pin_is_a_clear_error_that_does_not_show_the_pin(
    softhsm_token: SoftHsmToken, token_key: Pkcs11Key
) -> None:
    wrong = "9999-not-the-pin"

    with pytest.raises(SigningTokenUnavailable) as refused:
        keys_on(softhsm_token, pin=wrong).load(token_key.handle)
    with pytest.raises(SigningTokenUnavailable, match="refused the PIN"):
        keys_on(softhsm_token, pin=wrong).generate("never made")

    assert str(refused.value) == (
        f"The PKCS#11 token {softhsm_token.label} refused the PIN (MADOGUCHI_PKCS11_PIN)."
    )
    assert wrong not in repr(refused.value)
    assert verifies(token_key, keys_on(softhsm_token).load(token_key.handle).sign(DATA), DATA)


def pin_count_low(token: SoftHsmToken) -> bool:
    """SoftHSM raises this flag on a wrong login and lowers it on a right one."""
    flags = pkcs11.lib(token.module).get_token(token_label=token.label).flags
    return TokenFlag.USER_PIN_COUNT_LOW in flags


def test_a_refused_pin_is_not_tried_on_the_token_again(
    softhsm_token: SoftHsmToken, token_key: Pkcs11Key
) -> None:
    """Each wrong try counts towards locking a real token's PIN."""
    wrong = keys_on(softhsm_token, pin="8888-also-wrong")
    with pytest.raises(SigningTokenUnavailable):
        wrong.load(token_key.handle)
    assert pin_count_low(softhsm_token)
    keys_on(softhsm_token).load(token_key.handle)
    assert not pin_count_low(softhsm_token)

    with pytest.raises(SigningTokenUnavailable, match="refused the PIN"):
        wrong.load(token_key.handle)

    assert not pin_count_low(softhsm_token)


def test_a_missing_token_is_a_clear_error_naming_it(softhsm_token: SoftHsmToken) -> None:
    keys = Pkcs11Keys(softhsm_token.module, "no-such-token", softhsm_token.pin)

    with pytest.raises(SigningTokenUnavailable, match="No PKCS#11 token labelled no-such-token"):
        keys.generate("anything")


def test_a_missing_module_is_a_clear_error_naming_it(
    softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    module = str(tmp_path / "libmissing.so")

    with pytest.raises(
        SigningTokenUnavailable, match=re.escape(f"module {module} cannot be loaded")
    ):
        Pkcs11Keys(module, softhsm_token.label, softhsm_token.pin).load("pkcs11:00")


@pytest.mark.parametrize("setting", ["pkcs11_module", "pkcs11_token_label", "pkcs11_pin"])
def test_the_backend_needs_every_pkcs11_setting(
    softhsm_token: SoftHsmToken, tmp_path: Path, setting: str
) -> None:
    settings = softhsm_token.settings(tmp_path, **{setting: ""})

    with pytest.raises(ValueError, match=f"MADOGUCHI_{setting.upper()} must be set"):
        Pkcs11Keys.from_settings(settings)


def test_the_pin_is_in_no_representation(softhsm_token: SoftHsmToken, token_key: Pkcs11Key) -> None:
    assert softhsm_token.pin not in repr(keys_on(softhsm_token))
    assert softhsm_token.pin not in repr(token_key)


def test_the_private_key_was_made_on_the_token_and_can_never_leave(
    softhsm_token: SoftHsmToken, token_key: Pkcs11Key
) -> None:
    with token_session(softhsm_token) as session:
        private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, id=key_id(token_key))
        flags = private.get_attributes(
            [
                Attribute.TOKEN,
                Attribute.PRIVATE,
                Attribute.SENSITIVE,
                Attribute.ALWAYS_SENSITIVE,
                Attribute.EXTRACTABLE,
                Attribute.NEVER_EXTRACTABLE,
                Attribute.LOCAL,
                Attribute.DECRYPT,
                Attribute.UNWRAP,
            ]
        )
        with pytest.raises(pkcs11.AttributeSensitive):
            private[Attribute.PRIVATE_EXPONENT]
        with pytest.raises(pkcs11.AttributeSensitive):
            private[Attribute.PRIME_1]
        with pytest.raises(pkcs11.AttributeReadOnly):
            private[Attribute.EXTRACTABLE] = True

    assert flags == {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.ALWAYS_SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.NEVER_EXTRACTABLE: True,
        Attribute.LOCAL: True,
        Attribute.DECRYPT: False,
        Attribute.UNWRAP: False,
    }


def test_the_private_key_is_invisible_without_the_pin(
    softhsm_token: SoftHsmToken, token_key: Pkcs11Key
) -> None:
    with token_session(softhsm_token, logged_in=False) as session:
        private = list(session.get_objects({Attribute.ID: key_id(token_key)}))

    assert [each.object_class for each in private] == [ObjectClass.PUBLIC_KEY]


def test_worker_threads_may_sign_at_the_same_time(
    softhsm_token: SoftHsmToken, token_key: Pkcs11Key
) -> None:
    """Each operation logs in on its own; overlapping ones would be refused or corrupt SoftHSM."""
    keys = keys_on(softhsm_token)
    messages = [f"document {number}".encode() for number in range(64)]

    def sign(message: bytes) -> bytes:
        return keys.load(token_key.handle).sign(message)

    with ThreadPoolExecutor(max_workers=8) as pool:
        signatures = list(pool.map(sign, messages))

    assert all(map(verifies, [token_key] * 64, signatures, messages))


def test_new_keys_are_made_where_the_settings_say(softhsm_settings: Settings) -> None:
    key = generate_key(softhsm_settings, "e-seal")

    assert key.handle.startswith("pkcs11:")
    found = load_key(softhsm_settings, key.handle)
    assert verifies(key, found.sign(DATA), DATA)


def test_a_software_key_made_before_still_works_when_the_settings_say_pkcs11(
    softhsm_settings: Settings,
) -> None:
    before = generate_key(softhsm_settings.model_copy(update={"signing_keys": "soft"}), "old")

    assert before.handle.startswith("soft:")
    found = load_key(softhsm_settings, before.handle)
    assert verifies(before, found.sign(DATA), DATA)


def test_a_token_key_needs_the_token_in_the_settings(
    softhsm_settings: Settings, token_key: Pkcs11Key
) -> None:
    without_token = softhsm_settings.model_copy(update={"pkcs11_module": ""})

    with pytest.raises(ValueError, match="MADOGUCHI_PKCS11_MODULE"):
        load_key(without_token, token_key.handle)
    software_only = without_token.model_copy(update={"signing_keys": "soft"})
    with pytest.raises(UnknownKey, match="'pkcs11'"):
        load_key(software_only, token_key.handle)
    with pytest.raises(UnknownKey, match="'hsm'"):
        load_key(softhsm_settings, "hsm:0011")


def test_software_handles_open_whatever_the_pkcs11_pin(softhsm_settings: Settings) -> None:
    """Loading a software key never touches the token, so a token problem cannot stop it."""
    soft = SoftwareKeys(softhsm_settings.resolved_secret_key()).generate("old")
    wrong_pin = softhsm_settings.model_copy(update={"pkcs11_pin": "0000-wrong"})

    assert verifies(soft, load_key(wrong_pin, soft.handle).sign(DATA), DATA)
