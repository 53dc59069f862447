"""The real server, as an operator runs it: `madoguchi serve` in its own process."""

import http.client
import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server import running_server, stop

DRAIN_REQUESTS = 40


def get(base_url: str, path: str) -> tuple[int, bytes] | str:
    """Status and body, or the name of the connection error."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__
    finally:
        connection.close()


def test_serve_logs_json_and_drains_requests_on_sigterm(database_url: str, tmp_path: Path) -> None:
    json_logs = {"MADOGUCHI_LOG_FORMAT": "json"}
    with running_server(tmp_path, database_url=database_url, environment=json_logs) as server:
        assert get(server.base_url, "/healthz") == (200, b'{"status":"ok"}')
        outcomes: list[tuple[int, bytes] | str] = []

        def request() -> None:
            outcomes.append(get(server.base_url, "/bodies?kind=town"))

        threads = [threading.Thread(target=request) for _ in range(DRAIN_REQUESTS)]
        for thread in threads:
            thread.start()
        stop(server)  # SIGTERM while requests are in flight; asserts a clean, graceful exit
        for thread in threads:
            thread.join()
        log = server.log()

    answered = [o for o in outcomes if isinstance(o, tuple)]
    assert answered, "no request was in flight when the server was stopped"
    assert all(status == 200 and body.rstrip().endswith(b"</html>") for status, body in answered)
    # A request the server had not begun is refused or reset before any byte of an answer: the
    # client knows it was not served and may retry. What it began, it finished.
    not_begun = {o for o in outcomes if isinstance(o, str)}
    assert not_begun <= {"ConnectionRefusedError", "ConnectionResetError", "RemoteDisconnected"}

    assert f"madoguchi is serving on {server.base_url}" in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e["message"] == "Application startup complete." for e in entries)
    assert any(e["logger"] == "uvicorn.access" for e in entries)
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
