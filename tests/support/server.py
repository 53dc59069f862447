"""The real `madoguchi serve` in a child process, for tests that need a server over HTTP.

The server is started exactly as an operator starts it (the installed `madoguchi` command, which
migrates, loads the reference data and serves), on a free port of the loopback interface, with
a data folder of the test's own. It is ready when ``/readyz`` answers 200, and it is stopped with
SIGTERM, as a process manager stops it; it must then shut down gracefully and exit by itself.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.my_number_watch import my_numbers_in

HOST = "127.0.0.1"
START_TIMEOUT = 120.0  # migrating and seeding PostgreSQL on a busy 2-core machine
STOP_TIMEOUT = 30.0  # uvicorn's graceful shutdown is 20 s, then the engine is disposed
POLL_INTERVAL = 0.1
PORT_ATTEMPTS = 3
CLEAN_EXIT_CODES = (0, -signal.SIGTERM)  # uvicorn may re-raise the SIGTERM it handled


class ServerError(AssertionError):
    """The server did not start, did not become ready or did not stop cleanly."""


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def url(self, path: str) -> str:
        return self.base_url + path


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def madoguchi_command() -> list[str]:
    """The installed entry point of the environment running the tests."""
    script = Path(sys.executable).with_name("madoguchi")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from madoguchi.cli import main; main()"]


def server_environment(
    data_dir: Path, database_url: str | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """This process's environment without any MADOGUCHI_* setting, plus the server's own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    environment.update(extra or {})
    environment["MADOGUCHI_DATA_DIR"] = str(data_dir)
    if database_url:
        environment["MADOGUCHI_DATABASE_URL"] = database_url
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


@contextmanager
def running_server(
    data_dir: Path,
    *,
    database_url: str | None = None,
    log_path: Path | None = None,
    environment: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Starts `madoguchi serve`, waits until it is ready, and stops it with SIGTERM at the end.

    Leaving the block asserts that the server exited cleanly within STOP_TIMEOUT.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir / "server.log"
    for attempt in range(1, PORT_ATTEMPTS + 1):
        server = _start(data_dir, database_url, log_path, environment)
        try:
            wait_until_ready(server)
            break
        except ServerError:
            _kill(server.process)
            # Another process may have taken the free port between our probe and the bind.
            if attempt == PORT_ATTEMPTS or "address already in use" not in server.log():
                raise
        except BaseException:
            _kill(server.process)
            raise
    try:
        yield server
    finally:
        stop(server)


def _start(
    data_dir: Path, database_url: str | None, log_path: Path, environment: dict[str, str] | None
) -> Server:
    port = free_port()
    command = [*madoguchi_command(), "serve", "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=server_environment(data_dir, database_url, environment),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(base_url=f"http://{HOST}:{port}", process=process, log_path=log_path)


def wait_until_ready(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"madoguchi serve exited with code {server.process.returncode} before it was "
                f"ready; its output:\n{server.log()}"
            )
        if _status(server, "/readyz") == 200:
            return
        time.sleep(POLL_INTERVAL)
    raise ServerError(
        f"madoguchi serve was not ready at {server.base_url}/readyz after {timeout:.0f} s; "
        f"its output:\n{server.log()}"
    )


def stop(server: Server, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then wait: the server must finish by itself, with a clean exit and no traceback."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise ServerError(
                f"madoguchi serve did not stop within {timeout:.0f} s of SIGTERM; its output:\n"
                f"{server.log()}"
            ) from None
    output = server.log()
    graceful = "Application shutdown complete" in output and "Traceback" not in output
    if process.returncode not in CLEAN_EXIT_CODES or not graceful:
        raise ServerError(
            f"madoguchi serve did not exit cleanly on SIGTERM (code {process.returncode}); "
            f"its output:\n{output}"
        )
    if leaks := my_numbers_in(output):  # [P3]: never a My Number in a server's output
        raise ServerError(
            f"madoguchi serve wrote {leaks} My Numbers to its output: {server.log_path}"
        )


def _status(server: Server, path: str) -> int | None:
    connection = http.client.HTTPConnection(HOST, int(server.base_url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        process.kill()
    with suppress(subprocess.TimeoutExpired):
        process.wait(10)
