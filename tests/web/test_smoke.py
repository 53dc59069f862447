from fastapi.testclient import TestClient


def test_health_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ready_when_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
