"""The tenants domain's JSON shapes (API responses)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from madoguchi.tenants.models import TenantKind


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="6-digit JIS X 0402 code, or a national body's code")
    kind: TenantKind
    name: str
    name_kana: str
    name_en: str | None
    prefecture_code: str | None = Field(
        description="2-digit prefecture code; null for national bodies"
    )
    parent_code: str | None = Field(description="the ministry an external agency belongs to")


class WardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_kana: str


class TenantDetail(TenantOut):
    wards: list[WardOut] = Field(description="administrative wards, for a designated city")


class TenantList(BaseModel):
    items: list[TenantOut]
    total: int = Field(description="how many bodies match the filters, over all pages")
    limit: int
    offset: int


class BodyRef(BaseModel):
    code: str
    name: str
    name_kana: str


class PostalTownOut(BaseModel):
    prefecture: BodyRef
    municipality: BodyRef
    ward: BodyRef | None = Field(description="the administrative ward, inside a designated city")
    town: str
    town_kana: str
    office: str | None = Field(description="the office that has this postal code of its own")


class PostalCodeOut(BaseModel):
    postal_code: str = Field(examples=["0600001"])
    formatted: str = Field(examples=["060-0001"])
    towns: list[PostalTownOut]
