"""Tables of the tenants domain. Public bodies are national reference data, not tenant-owned."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from madoguchi.core.db import Base
from madoguchi.core.ids import uuid7


class TenantKind(StrEnum):
    PREFECTURE = "prefecture"
    DESIGNATED_CITY = "designated_city"
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    SPECIAL_WARD = "special_ward"
    MINISTRY = "ministry"
    AGENCY = "agency"

    @property
    def is_local(self) -> bool:
        return self not in (TenantKind.MINISTRY, TenantKind.AGENCY)


class Tenant(Base):
    """A public body: a prefecture, a municipality or a national ministry or agency."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    prefecture_code: Mapped[str | None] = mapped_column(String(2), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(20))
    # Name, kana and code folded for search (see core.text.search_key).
    search_text: Mapped[str] = mapped_column(String(400))


class Area(Base):
    """An administrative ward of a designated city: part of its city, not a municipality."""

    __tablename__ = "areas"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(200))
