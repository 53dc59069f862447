"""The interim staff credential: HTTP Basic with the administrator user and password in settings.

[P3] replaces this with officials' own accounts, roles and tenants; until then one credential
opens the staff pages of every body. The comparison takes the same time whatever is typed, and a
wrong or missing credential is answered 401 with a challenge, so the browser asks for it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated, ClassVar

from fastapi import Depends, Request

from madoguchi.core.errors import MadoguchiError
from madoguchi.core.i18n import N_
from madoguchi.core.settings import Settings

REALM = "madoguchi staff"


class StaffOnly(MadoguchiError):
    code = "staff-only"
    status = 401
    title = N_("Sign in as staff")
    headers: ClassVar[dict[str, str]] = {
        "WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'
    }


def staff_user(request: Request) -> str:
    """The staff user name, or StaffOnly when the request does not carry the credential."""
    settings: Settings = request.app.state.settings
    user, password = _basic_credentials(request.headers.get("authorization", ""))
    expected_user = settings.admin_username.encode()
    expected_password = settings.resolved_admin_password().encode()
    user_ok = hmac.compare_digest(user.encode(), expected_user)
    password_ok = hmac.compare_digest(password.encode(), expected_password)
    if not (user_ok and password_ok):
        raise StaffOnly(N_("These pages are for the staff of public bodies. Sign in to continue."))
    return user


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


StaffUser = Annotated[str, Depends(staff_user)]
