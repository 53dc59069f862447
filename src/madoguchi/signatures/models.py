"""Tables of the platform's PKI and of the documents it sealed.

- ``pki_authorities``: the root and the issuing certificate authorities (residents' cards,
  e-seals of public bodies, timestamps), each with the handle of its key (``signatures.keys``).
- ``pki_certificates``: every certificate an authority issued, national and public (a
  certificate is what anyone checks a signature against), with its revocation. CRLs are built
  from it on request, so a revocation is in the very next CRL.
- ``e_seals``: which certificate and key seal for which public body (tenant-owned: only that
  body's transactions see its key handle).
- ``official_signing_keys``: which certificate and key sign for an official of a body (their
  own signature on an internal approval, not the body's seal); tenant-owned, like ``e_seals``.
- ``sealed_documents``: each sealed PDF by its public reference, so that the QR code on a
  document opens its verification; the bytes themselves are in the file store.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, Uuid, func, text
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class Authority(Base):
    __tablename__ = "pki_authorities"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    key_handle: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class IssuedCertificate(Base):
    __tablename__ = "pki_certificates"
    # The few revoked among millions of card certificates, for building CRLs.
    __table_args__ = (
        Index(
            "ix_pki_certificates_revoked",
            "issuer",
            "revoked_at",
            postgresql_where=text("revoked_at IS NOT NULL"),
            sqlite_where=text("revoked_at IS NOT NULL"),
        ),
    )

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)  # lower-case hex
    issuer: Mapped[str] = mapped_column(ForeignKey("pki_authorities.name"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # a CertificatePurpose
    subject: Mapped[str] = mapped_column(Text)  # RFC 4514, for people reading the table
    certificate_pem: Mapped[str] = mapped_column(Text)
    not_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ESeal(Base):
    __tablename__ = "e_seals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    serial: Mapped[str] = mapped_column(ForeignKey("pki_certificates.serial"), unique=True)
    key_handle: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SealedDocument(Base):
    __tablename__ = "sealed_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # receipt, issued, approval, …
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sealed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OfficialSigningKey(Base):
    __tablename__ = "official_signing_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    official_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # the official's person id
    serial: Mapped[str] = mapped_column(
        String(40), ForeignKey("pki_certificates.serial"), unique=True
    )
    key_handle: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
