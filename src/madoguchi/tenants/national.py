"""The central government bodies that run national procedures.

Codes are the bodies' own go.jp domain labels (digital.go.jp → ``digital``): short, already
public, and as stable as the bodies themselves. ``parent`` names the ministry an external
agency belongs to.
"""

from __future__ import annotations

from typing import NamedTuple


class NationalBody(NamedTuple):
    code: str
    kind: str
    name: str
    name_kana: str
    name_en: str
    parent: str | None = None


NATIONAL_BODIES: tuple[NationalBody, ...] = (
    NationalBody("cao", "ministry", "内閣府", "ナイカクフ", "Cabinet Office"),
    NationalBody("digital", "agency", "デジタル庁", "デジタルチョウ", "Digital Agency"),
    NationalBody("reconstruction", "agency", "復興庁", "フッコウチョウ", "Reconstruction Agency"),
    NationalBody(
        "cfa", "agency", "こども家庭庁", "コドモカテイチョウ", "Children and Families Agency", "cao"
    ),
    NationalBody("npa", "agency", "警察庁", "ケイサツチョウ", "National Police Agency"),
    NationalBody(
        "soumu",
        "ministry",
        "総務省",
        "ソウムショウ",
        "Ministry of Internal Affairs and Communications",
    ),
    NationalBody("moj", "ministry", "法務省", "ホウムショウ", "Ministry of Justice"),
    NationalBody("mofa", "ministry", "外務省", "ガイムショウ", "Ministry of Foreign Affairs"),
    NationalBody("mof", "ministry", "財務省", "ザイムショウ", "Ministry of Finance"),
    NationalBody("nta", "agency", "国税庁", "コクゼイチョウ", "National Tax Agency", "mof"),
    NationalBody(
        "mext",
        "ministry",
        "文部科学省",
        "モンブカガクショウ",
        "Ministry of Education, Culture, Sports, Science and Technology",
    ),
    NationalBody(
        "mhlw",
        "ministry",
        "厚生労働省",
        "コウセイロウドウショウ",
        "Ministry of Health, Labour and Welfare",
    ),
    NationalBody(
        "maff",
        "ministry",
        "農林水産省",
        "ノウリンスイサンショウ",
        "Ministry of Agriculture, Forestry and Fisheries",
    ),
    NationalBody(
        "meti",
        "ministry",
        "経済産業省",
        "ケイザイサンギョウショウ",
        "Ministry of Economy, Trade and Industry",
    ),
    NationalBody(
        "mlit",
        "ministry",
        "国土交通省",
        "コクドコウツウショウ",
        "Ministry of Land, Infrastructure, Transport and Tourism",
    ),
    NationalBody("env", "ministry", "環境省", "カンキョウショウ", "Ministry of the Environment"),
    NationalBody("mod", "ministry", "防衛省", "ボウエイショウ", "Ministry of Defense"),
)
