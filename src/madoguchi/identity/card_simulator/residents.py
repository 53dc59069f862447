"""Synthetic residents for virtual cards: common Japanese names, real addresses.

Names are drawn from the most common family names and from given names popular across the
generations; addresses from real postal codes, read through the postal directory (prefecture,
municipality, ward and town as Japan Post lists them) with made-up block numbers. Nobody real is
described: any match with a living person is chance.
"""

from __future__ import annotations

import datetime as dt
import secrets

from madoguchi.core.clock import today_in_japan
from madoguchi.identity.card_simulator.certificates import Holder
from madoguchi.tenants import service as tenants

FAMILY_NAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "山下",
    "中島",
    "石井",
    "小川",
]
GIVEN_NAMES = {
    "1": [
        "翔太",
        "大輔",
        "健一",
        "誠",
        "浩",
        "隆",
        "蓮",
        "悠真",
        "湊",
        "陽翔",
        "拓也",
        "和夫",
        "茂",
        "雄一",
        "直樹",
        "悠斗",
    ],
    "2": [
        "花子",
        "陽菜",
        "結衣",
        "美咲",
        "恵子",
        "幸子",
        "由美子",
        "さくら",
        "葵",
        "凛",
        "真由美",
        "智子",
        "愛",
        "優子",
        "芽依",
        "陽子",
    ],
}
# Real postal codes across the country (Sapporo to Kagoshima).
POSTAL_CODES = [
    "0600001",
    "1000001",
    "5300001",
    "9800021",
    "4600008",
    "8120011",
    "0400001",
    "9000015",
    "7300011",
    "9200961",
    "2310023",
    "6008216",
    "3300063",
    "8600806",
    "7008544",
    "3800836",
    "6500044",
    "2600013",
    "4200853",
    "8900053",
]
YOUNGEST, OLDEST = 18, 95
SEXES = ("1", "2")  # ISO/IEC 5218; a card may also say 9 (not applicable), given explicitly


def synthetic_resident(
    *,
    name: str | None = None,
    address: str | None = None,
    birthdate: dt.date | None = None,
    sex: str | None = None,
) -> Holder:
    """A resident with what was given, and the rest made up."""
    sex = sex or secrets.choice(SEXES)
    return Holder(
        name=name or random_name(sex),
        address=address or random_address(),
        birthdate=birthdate or random_birthdate(today_in_japan()),
        sex=sex,
    )


def random_name(sex: str) -> str:
    given = GIVEN_NAMES.get(sex) or [*GIVEN_NAMES["1"], *GIVEN_NAMES["2"]]
    return f"{secrets.choice(FAMILY_NAMES)}\u3000{secrets.choice(given)}"  # an ideographic space


def random_address() -> str:
    town = secrets.choice(tenants.lookup_postal_code(secrets.choice(POSTAL_CODES)).towns)
    ward = town.ward.name if town.ward else ""
    block = f"{_number(5)}-{_number(20)}-{_number(30)}"
    return f"{town.prefecture.name}{town.municipality.name}{ward}{town.town}{block}"


def random_birthdate(today: dt.date) -> dt.date:
    """Someone between 18 and 95 years old today (a year is 365.25 days, near enough)."""
    oldest = today - dt.timedelta(days=int(365.25 * OLDEST))
    youngest = today - dt.timedelta(days=int(365.25 * YOUNGEST) + 1)
    return oldest + dt.timedelta(days=secrets.randbelow((youngest - oldest).days))


def _number(most: int) -> int:
    return 1 + secrets.randbelow(most)
