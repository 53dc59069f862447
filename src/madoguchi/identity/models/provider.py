"""Tables of madoguchi as an OpenID provider for other government services ([P3] item 9).

Nothing here is tenant-owned: a client is a national registration, and consents belong to a
person, who is national too. Codes and access tokens are kept only as SHA-256 of their value, so a
copy of the database can neither exchange a code nor read anyone's attributes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base


class OidcClient(Base):
    """A service registered to sign people in with madoguchi (``madoguchi oidc clients add``)."""

    __tablename__ = "oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Exact strings: a redirect_uri is accepted only when it equals one of these.
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    # The client's public keys (a JWK Set): its private_key_jwt assertions must verify with one.
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Clients of one sector (usually one host) see the same pairwise subject for a person.
    sector_identifier: Mapped[str] = mapped_column(String(255))
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OidcAuthorizationCode(Base):
    """An authorization code: single use, short-lived, bound to its client, redirect_uri and
    PKCE challenge (S256)."""

    __tablename__ = "oidc_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    acr: Mapped[str] = mapped_column(String(100))
    auth_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OidcAccessToken(Base):
    """An opaque bearer token for /oidc/userinfo. ``code_hash`` names the code it came from, so
    a second use of that code revokes it."""

    __tablename__ = "oidc_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OidcConsent(Base):
    """What a person allowed a client to receive, and when. Asked again for anything more."""

    __tablename__ = "oidc_consents"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id"), primary_key=True, index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OidcUsedAssertion(Base):
    """The ``jti`` of every client assertion accepted, until it expires: a replay is refused."""

    __tablename__ = "oidc_used_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class OidcSigningKey(Base):
    """madoguchi's own ID-token signing keys. Every key not retired is published in the JWKS;
    the newest activated one signs. The private key is PEM sealed (AES-GCM, purpose
    ``oidc_signing_key``) under the application secret."""

    __tablename__ = "oidc_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
