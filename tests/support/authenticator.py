"""A software passkey authenticator: what a phone or a security key does, in Python.

It holds EC P-256 keys and answers the relying party's options the way a browser and an
authenticator together do: ``create`` returns a registration credential with a "none"
attestation (authenticatorData carrying the rpIdHash, the flags, the signature counter and the
attested credential data with the COSE key); ``get`` returns an assertion whose signature covers
authenticatorData and the SHA-256 of clientDataJSON. Every field a test may want to get wrong
(origin, rp id, challenge, flags, counter, user handle, signature) can be overridden, so the
server's refusals are tested at the protocol level, not by mocking the library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from httpx import Response

from madoguchi.core.sessions import SESSION_COOKIE

FLAG_UP = 0x01  # user present
FLAG_UV = 0x04  # user verified
FLAG_AT = 0x40  # attested credential data included
AAGUID = bytes.fromhex("6d61646f67756368692d746573742d31")  # "madoguchi-test-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One discoverable credential the authenticator keeps (a passkey)."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftwareAuthenticator:
    origin: str
    counts_signatures: bool = True  # synced passkeys often always send 0
    credentials: list[Credential] = field(default_factory=list)

    # --- registration (navigator.credentials.create) ---------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        flags: int = FLAG_UP | FLAG_UV | FLAG_AT,
        reuse: Credential | None = None,
    ) -> dict[str, Any]:
        """A registration credential for ``options`` (PublicKeyCredentialCreationOptions JSON):
        a new key pair, or the one of ``reuse`` (an authenticator registering a key twice)."""
        rp = rp_id or options["rp"]["id"]
        credential = reuse or Credential(
            credential_id=os.urandom(32),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
        )
        if reuse is None:
            self.credentials.append(credential)
        attested = AAGUID + struct.pack(">H", len(credential.credential_id))
        attested += credential.credential_id + credential.cose_public_key()
        auth_data = self._authenticator_data(rp, flags, 0) + attested
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    # --- authentication (navigator.credentials.get) ----------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        flags: int = FLAG_UP | FLAG_UV,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        tamper: bool = False,
    ) -> dict[str, Any]:
        """An assertion for ``options`` (PublicKeyCredentialRequestOptions JSON) with the first
        credential of its rp id, unless another is given."""
        chosen = credential or self.credential_for(options["rpId"])
        if sign_count is None:
            chosen.sign_count += 1 if self.counts_signatures else 0
            sign_count = chosen.sign_count
        rp = rp_id or options["rpId"]
        auth_data = self._authenticator_data(rp, flags, sign_count)
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = chosen.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if tamper:
            auth_data = auth_data[:-1] + bytes([auth_data[-1] ^ 0x01])
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(user_handle or chosen.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def credential_for(self, rp_id: str) -> Credential:
        for credential in self.credentials:
            if credential.rp_id == rp_id:
                return credential
        raise LookupError(f"no credential for {rp_id}")

    # --- shared ------------------------------------------------------------------------------

    @staticmethod
    def _authenticator_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", sign_count)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        document = {
            "type": kind,
            "challenge": challenge,
            "origin": origin or self.origin,
            "crossOrigin": False,
        }
        return json.dumps(document, separators=(",", ":")).encode()


# --- Driving the site's passkey steps with a test client -----------------------------------

CSRF_IN_PAGE = re.compile(r'(?:data-csrf-token|name="csrf_token" value)="([^"]+)"')


def forget_session(client: TestClient) -> None:
    """The browser loses its session (as after closing it); its language stays."""
    client.cookies.delete(SESSION_COOKIE)


def page_token(client: TestClient, path: str = "/sign-in") -> str:
    """The session's form token, as a page gives it to passkeys.js."""
    response = client.get(path)
    found = CSRF_IN_PAGE.search(response.text)
    assert found, f"no form token on {path}: {response.status_code}"
    return found.group(1)


def post_json(client: TestClient, path: str, token: str | None, body: Any = None) -> Response:
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return client.post(path, json=body if body is not None else {}, headers=headers)


def add_passkey(
    client: TestClient,
    token: str,
    authenticator: SoftwareAuthenticator,
    name: str = "",
    **changes: Any,
) -> Response:
    """Ask for creation options, let the authenticator answer, and post the credential."""
    options = post_json(client, "/account/passkeys/options", token)
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json(), **changes)
    return post_json(client, "/account/passkeys", token, {"credential": credential, "name": name})


def sign_in_options(client: TestClient, token: str) -> dict[str, Any]:
    options = post_json(client, "/sign-in/passkey/options", token)
    assert options.status_code == 200, options.text
    document: dict[str, Any] = options.json()
    return document


def sign_in(
    client: TestClient,
    token: str,
    authenticator: SoftwareAuthenticator,
    next_path: str = "/me",
    **changes: Any,
) -> Response:
    assertion = authenticator.get(sign_in_options(client, token), **changes)
    return post_json(
        client, "/sign-in/passkey", token, {"credential": assertion, "next": next_path}
    )
