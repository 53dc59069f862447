"""The tenants service against a real database (SQLite, or PostgreSQL when configured)."""

import hashlib

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.core.errors import InvalidInput, NotFound
from madoguchi.tenants import service
from madoguchi.tenants.models import Area, Tenant


async def snapshot(session: AsyncSession) -> tuple[int, int, str]:
    tenants = (await session.execute(select(Tenant).order_by(Tenant.code))).scalars().all()
    areas = await session.scalar(select(func.count()).select_from(Area))
    digest = hashlib.sha256(
        repr([(t.id, t.code, t.kind, t.name, t.name_kana, t.parent_code) for t in tenants]).encode()
    ).hexdigest()
    return len(tenants), areas or 0, digest


async def test_loading_twice_leaves_the_same_state(session: AsyncSession) -> None:
    before = await snapshot(session)
    report = await service.sync_reference_data(session)
    assert (report.tenants, report.wards) == (1805, 171)
    assert await snapshot(session) == before
    assert before[:2] == (1805, 171)


async def rows_written_in_this_transaction(session: AsyncSession) -> int:
    if session.get_bind().dialect.name == "sqlite":
        return await session.scalar(text("SELECT total_changes()")) or 0
    written = text(
        "SELECT (SELECT count(*) FROM tenants WHERE xmin::text = pg_current_xact_id()::text)"
        " + (SELECT count(*) FROM areas WHERE xmin::text = pg_current_xact_id()::text)"
    )
    return await session.scalar(written) or 0


async def test_an_unchanged_reload_writes_no_row(session: AsyncSession) -> None:
    before = await rows_written_in_this_transaction(session)
    await service.sync_reference_data(session)
    assert await rows_written_in_this_transaction(session) == before


async def test_loading_repairs_a_changed_row(session: AsyncSession) -> None:
    sapporo = await service.get_tenant(session, "011002")
    sapporo.name = "誤った名前"
    await session.flush()
    await service.sync_reference_data(session)
    await session.refresh(sapporo)
    assert sapporo.name == "札幌市"


async def test_search_finds_by_kanji_kana_any_width_and_code(session: AsyncSession) -> None:
    for query in ("札幌", "さっぽろ", "サッポロ", "ｻｯﾎﾟﾛ", "011002", "01100"):
        page = await service.list_tenants(session, q=query)
        assert "011002" in [t.code for t in page.items], query
    digital = await service.list_tenants(session, q="digital agency")
    assert [t.code for t in digital.items] == ["digital"]


async def test_with_no_filter_the_total_counts_every_body(session: AsyncSession) -> None:
    page = await service.list_tenants(session, limit=3)
    assert page.total == 1805
    assert len(page.items) == 3


async def test_filters_combine_and_total_counts_every_page(session: AsyncSession) -> None:
    page = await service.list_tenants(session, kind="town", prefecture="01", limit=5)
    assert page.total == 129
    assert len(page.items) == 5
    assert all(t.kind == "town" and t.prefecture_code == "01" for t in page.items)
    same = await service.list_tenants(session, kind="town", prefecture="010006", limit=5)
    assert [t.code for t in same.items] == [t.code for t in page.items]


async def test_pages_do_not_overlap(session: AsyncSession) -> None:
    first = await service.list_tenants(session, prefecture="13", limit=30)
    second = await service.list_tenants(session, prefecture="13", limit=30, offset=30)
    assert not {t.code for t in first.items} & {t.code for t in second.items}
    assert first.total == second.total == 63


async def test_a_search_with_like_wildcards_matches_them_literally(session: AsyncSession) -> None:
    assert (await service.list_tenants(session, q="%")).total == 0
    assert (await service.list_tenants(session, q="_")).total == 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"prefecture": "48"}, "prefecture"),
        ({"prefecture": "011002"}, "prefecture"),
        ({"prefecture": "x"}, "prefecture"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
async def test_bad_filters_name_their_field(
    session: AsyncSession, arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await service.list_tenants(session, **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_prefectures_come_with_their_municipality_counts(session: AsyncSession) -> None:
    counts = {p.prefecture.name: p.municipalities for p in await service.list_prefectures(session)}
    assert len(counts) == 47
    assert counts["北海道"] == 179
    assert counts["東京都"] == 62
    assert sum(counts.values()) == 1741


async def test_a_prefecture_lists_its_municipalities(session: AsyncSession) -> None:
    hokkaido = await service.get_tenant(session, "010006")
    municipalities = await service.list_municipalities(session, hokkaido)
    assert len(municipalities) == 179
    assert municipalities[0].name == "札幌市"


async def test_a_designated_city_lists_its_wards(session: AsyncSession) -> None:
    sapporo = await service.get_tenant(session, "01100")
    wards = await service.list_wards(session, sapporo)
    assert [w.name for w in wards][:3] == ["中央区", "北区", "東区"]
    assert len(wards) == 10


async def test_unknown_and_malformed_codes(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await service.get_tenant(session, "999997")
    with pytest.raises(InvalidInput):
        await service.get_tenant(session, "999999")


async def test_the_unpaginated_list_for_the_command_line(session: AsyncSession) -> None:
    villages = await service.list_all_tenants(session, kind="village")
    assert len(villages) == 183
