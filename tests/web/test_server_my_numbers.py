"""The real server masks a My Number that reaches its logs, and the browser tests' servers are
watched for any that gets through (``tests.support.server.stop``)."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.my_number_watch import my_numbers_in
from tests.support.server import ServerError, running_server, stop

VALID = "123456789018"


def _get(base_url: str, path: str) -> int:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_number_in_a_request_line_is_masked_and_a_leak_fails_the_test(
    database_url: str, tmp_path: Path
) -> None:
    with running_server(tmp_path, database_url=database_url) as server:
        assert _get(server.base_url, f"/bodies/{VALID}") in (404, 422)  # the request is logged
    log = server.log()
    assert f"/bodies/●●●●●●●●{VALID[-4:]}" in log and my_numbers_in(log) == 0

    with server.log_path.open("a", encoding="utf-8") as output:
        output.write(f"printed around the logging: {VALID}\n")
    with pytest.raises(ServerError, match="wrote 1 My Numbers") as caught:
        stop(server)  # the same check every test server gets when it stops
    assert VALID not in str(caught.value)
