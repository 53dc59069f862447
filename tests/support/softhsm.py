"""A fresh SoftHSM2 token for tests: one per test process, in a folder of its own.

SoftHSM finds its tokens through the file SOFTHSM2_CONF names, and reads it when the library is
initialised, which python-pkcs11 does once per process. So each test process (each xdist worker)
makes one token folder, points SOFTHSM2_CONF at it before the library is first loaded, and keeps
it for the whole session; ``process_token`` hands the same token to every caller in the process.

Without softhsm2-util the tests are skipped, except in CI (CI=true), where that is a failure:
.ci/run installs Debian's softhsm2.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
import pytest

from madoguchi.core.settings import Settings
from tests.conftest import TEST_SECRET

TOKEN_LABEL = "madoguchi-test"
USER_PIN = "2468-test-user"
SO_PIN = "1357-test-officer"

# Where distributions put the module: Debian (old and multiarch), Fedora, source builds, Homebrew.
MODULE_PLACES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class SoftHsmToken:
    module: str
    conf: Path
    label: str
    pin: str
    so_pin: str

    def settings(self, data_dir: Path, **changes: Any) -> Settings:
        """Settings that make new signing keys on this token."""
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "secret_key": TEST_SECRET,
            "signing_keys": "pkcs11",
            "pkcs11_module": self.module,
            "pkcs11_token_label": self.label,
            "pkcs11_pin": self.pin,
        }
        return Settings(**(values | changes))


_made: SoftHsmToken | None = None


def process_token(directory: Path) -> SoftHsmToken:
    """This process's token, made in ``directory`` on the first call."""
    global _made
    if _made is None:
        _made = make_token(directory)
    return _made


def make_token(directory: Path) -> SoftHsmToken:
    """A new, initialised token whose folder is in ``directory``; SOFTHSM2_CONF now names it."""
    tool = softhsm2_util()
    module = find_module()
    conf = _write_conf(directory)
    os.environ["SOFTHSM2_CONF"] = str(conf)
    _init_token(tool, conf)
    token = SoftHsmToken(module, conf, TOKEN_LABEL, USER_PIN, SO_PIN)
    _check_visible(token)
    return token


def softhsm2_util() -> str:
    tool = shutil.which("softhsm2-util")
    if tool is not None:
        return tool
    if os.environ.get("CI") == "true":
        pytest.fail("softhsm2-util is missing: CI must install Debian's softhsm2 (see .ci/run)")
    pytest.skip("SoftHSM2 is not installed (Debian: apt-get install softhsm2)")


def find_module() -> str:
    for place in MODULE_PLACES:
        found = sorted(glob.glob(place))
        if found:
            return found[0]
    pytest.fail(f"softhsm2-util is installed but libsofthsm2.so is in none of {MODULE_PLACES}")


def _write_conf(directory: Path) -> Path:
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    return conf


def _init_token(tool: str, conf: Path) -> None:
    command = [tool, "--init-token", "--free", "--label", TOKEN_LABEL]
    command += ["--so-pin", SO_PIN, "--pin", USER_PIN]
    done = subprocess.run(
        command,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"softhsm2-util could not make a token: {done.stderr or done.stdout}")


def _check_visible(token: SoftHsmToken) -> None:
    """Fails clearly when SoftHSM was loaded in this process before SOFTHSM2_CONF was set."""
    labels = [each.label for each in pkcs11.lib(token.module).get_tokens()]
    if token.label not in labels:
        pytest.fail(
            f"SoftHSM was loaded in this process before SOFTHSM2_CONF named {token.conf}: "
            f"it sees only the tokens {labels}; make the token before anything loads SoftHSM"
        )
