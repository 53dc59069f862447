"""What each body offers: the seeded examples on body pages, start pages and the API."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from madoguchi.procedures.examples import sync_examples
from tests.support.html import accessibility_problems, get_page

START = "/bodies/soumu/procedures/metaverse-consultation"


async def test_seeding_the_examples_again_publishes_nothing(session: AsyncSession) -> None:
    assert await sync_examples(session) == 0


def test_a_ministry_page_lists_its_procedures(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/soumu")
    assert "メタバース等の利活用に関する意見募集" in page.main.text
    assert START in [a.attrs.get("href") for a in page.find_all("a")]


def test_a_municipality_lists_the_template_it_adopted(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/011002")
    assert "転居届（同じ市区町村の中での引っ越し）" in page.main.text
    _, other = get_page(client, "/bodies/012025")
    assert "転居届" not in other.main.text


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_start_page_says_what_when_and_who(client: TestClient, language: str) -> None:
    response, page = get_page(client, START, language)
    assert response.status_code == 200
    assert accessibility_problems(page, language) == []
    if language == "ja":
        assert "2027年1月31日 (令和9年)" in page.main.text
        assert "行政手続法第39条" in page.main.text
    else:
        assert "31 January 2027" in page.main.text
        assert "Public consultation on the use of metaverse platforms" in page.main.text


def test_an_adopted_template_shows_the_local_contact(client: TestClient) -> None:
    _, page = get_page(client, "/bodies/011002/procedures/change-of-address")
    assert "札幌市 各区役所 戸籍住民課" in page.main.text
    assert "区役所の窓口でも届け出ることができます。" in page.main.text


def test_an_unknown_procedure_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/bodies/soumu/procedures/nothing-here")
    assert response.status_code == 404
    assert "<html" in response.text


def test_the_api_lists_what_a_body_offers(client: TestClient) -> None:
    body = client.get("/api/v1/procedures", params={"tenant": "011002"}).json()
    assert [(p["slug"], p["adopted_template"]) for p in body["items"]] == [
        ("change-of-address", True)
    ]
    ministry = client.get("/api/v1/procedures", params={"tenant": "soumu"}).json()
    consultation = next(p for p in ministry["items"] if p["slug"] == "metaverse-consultation")
    assert consultation["closes"] == "2027-01-31"
    assert consultation["title"]["en"].startswith("Public consultation")


def test_the_api_names_a_bad_tenant(client: TestClient) -> None:
    response = client.get("/api/v1/procedures", params={"tenant": "011003"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tenant"
