"""The tenants API: /api/v1/tenants and /api/v1/postal-codes."""

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def test_list_tenants_filters_and_counts(client: TestClient) -> None:
    response = client.get("/api/v1/tenants", params={"kind": "prefecture", "limit": 10})
    body = response.json()
    assert response.status_code == 200
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (47, 10, 0, 10)
    assert body["items"][0] == {
        "code": "010006",
        "kind": "prefecture",
        "name": "北海道",
        "name_kana": "ホッカイドウ",
        "name_en": None,
        "prefecture_code": "01",
        "parent_code": None,
    }


def test_unfiltered_list_counts_every_body(client: TestClient) -> None:
    body = client.get("/api/v1/tenants", params={"limit": 100, "offset": 1800}).json()
    assert body["total"] == 1805
    assert len(body["items"]) == 5


def test_search_by_name(client: TestClient) -> None:
    body = client.get("/api/v1/tenants", params={"q": "札幌"}).json()
    assert [item["code"] for item in body["items"]] == ["011002"]


def test_one_tenant_with_its_wards(client: TestClient) -> None:
    body = client.get("/api/v1/tenants/011002").json()
    assert body["name"] == "札幌市"
    assert body["kind"] == "designated_city"
    assert body["wards"][0] == {"code": "011011", "name": "中央区", "name_kana": "チュウオウク"}


def test_a_national_body(client: TestClient) -> None:
    body = client.get("/api/v1/tenants/nta").json()
    assert (body["name"], body["name_en"], body["parent_code"]) == (
        "国税庁", "National Tax Agency", "mof",
    )  # fmt: skip


def test_a_malformed_code_is_a_problem_naming_the_field(client: TestClient) -> None:
    response = client.get("/api/v1/tenants/011003")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://madoguchi.jp/problems/invalid-input"
    assert problem["code"] == "invalid-input"
    assert problem["errors"][0]["field"] == "code"
    assert "2" in problem["detail"]
    assert "Traceback" not in response.text


def test_an_unknown_code_is_not_found(client: TestClient) -> None:
    response = client.get("/api/v1/tenants/999997")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "not-found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"offset": -5}, "offset"),
        ({"prefecture": "99"}, "prefecture"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get("/api/v1/tenants", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_problems_are_in_japanese_when_asked(client: TestClient) -> None:
    english = client.get("/api/v1/tenants/999997", headers={"accept-language": "en"}).json()
    japanese = client.get("/api/v1/tenants/999997", headers={"accept-language": "ja"}).json()
    assert english["code"] == japanese["code"] == "not-found"
    assert english["detail"] != japanese["detail"]


def test_postal_code_lookup(client: TestClient) -> None:
    body = client.get("/api/v1/postal-codes/060-0001").json()
    assert (body["postal_code"], body["formatted"]) == ("0600001", "060-0001")
    (town,) = body["towns"]
    assert town["municipality"]["code"] == "011002"
    assert town["ward"]["name"] == "中央区"
    assert town["town_kana"] == "キタ１ジョウニシ"


def test_postal_code_errors(client: TestClient) -> None:
    malformed = client.get("/api/v1/postal-codes/12345")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "postal_code"
    unknown = client.get("/api/v1/postal-codes/0000000")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


def test_unknown_api_routes_answer_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_openapi_is_3_1_and_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {
        "/api/v1/tenants",
        "/api/v1/tenants/{code}",
        "/api/v1/postal-codes/{postal_code}",
    } <= set(spec["paths"])


def test_api_docs_are_readable_html(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/v1/tenants" in response.text
