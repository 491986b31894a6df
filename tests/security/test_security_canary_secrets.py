"""SECURITY.md "secrets in logs and errors": a canary written through every path we can think of
(see ``canary_requests``), successful and failing, never appears in a log record at DEBUG,
in an error body, or in plaintext anywhere in storage.

Two sinks setups: the in-process server (every log record captured, every storage value
scanned), and a real server process on SQLite at log level debug (its log file and the raw
bytes of the database file and its WAL scanned).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.api_support import storage_snapshot
from tests.security.canary_requests import CanaryRequest, new_canary, run_scenario
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess, sqlite_server_process

#: Records from the test's own HTTP client describe what the test sent, not what the server did.
CLIENT_LOGGERS = ("httpx", "httpcore")


class _Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, from every logger but the test client's."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_LOGGERS):
            self.lines.append(self.format(record) + repr(record.args))


@pytest.fixture
def captured_logs() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    saved = root.level
    strongroom = logging.getLogger("strongroom")
    saved_strongroom = strongroom.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    strongroom.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
        strongroom.setLevel(saved_strongroom)


def test_canary_never_reaches_logs_error_bodies_or_plaintext_storage(
    server: InProcessServer, captured_logs: _Everything
) -> None:
    canary = new_canary()

    def send(request: CanaryRequest) -> tuple[int, bytes]:
        reply = server.request(
            request.method, request.path, token=request.token, json=request.json, content=request.content,
            headers=request.headers,
        )
        return reply.status_code, reply.content

    leaks = run_scenario(send, canary)
    assert leaks == []
    assert any("permission denied" in line for line in captured_logs.lines), "the capture missed the server"
    assert [line for line in captured_logs.lines if canary in line] == []
    stored = storage_snapshot(server)
    assert [key for key in stored if canary in key] == []
    assert [key for key, value in stored.items() if canary.encode() in value] == []
    # The canary really went in: it reads back through the API.
    assert server.request("GET", "secret/data/app").json()["data"]["data"]["password"] == canary + "-v3"


def test_internal_errors_log_no_request_data(server: InProcessServer, captured_logs: _Everything) -> None:
    canary = new_canary()
    assert server.request("POST", "kv1-missing", json={"x": canary}).status_code in (403, 404, 405)
    # Break a stored entry so a read fails inside the server, then read it with the canary around.
    assert server.request("POST", "secret/data/broken", json={"data": {"password": canary}}).status_code == 200
    for key, value in storage_snapshot(server).items():
        if "/ver/" in key:
            server.run(server.physical.put(key, value[:-1]))
    reply = server.request("GET", f"secret/data/broken?version=1&note={canary}")
    assert reply.status_code == 500
    assert canary.encode() not in reply.content
    assert [line for line in captured_logs.lines if canary in line] == []


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, str, Path]]:
    server = sqlite_server_process(tmp_path, workers=2)
    server.start()
    try:
        init = httpx.put(server.address + "/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
        assert init.status_code == 200, init.text
        body = init.json()
        unseal = httpx.put(server.address + "/v1/sys/unseal", json={"key": body["keys"][0]})
        assert unseal.json()["sealed"] is False
        root = body["root_token"]
        enable = httpx.post(
            server.address + "/v1/sys/mounts/secret", headers={"X-Vault-Token": root},
            json={"type": "kv", "options": {"version": "2"}},
        )
        assert enable.status_code == 204, enable.text
        yield server, root, tmp_path
    finally:
        server.stop()


def database_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.name.startswith("strongroom.db")}


def test_canary_never_reaches_a_real_servers_log_or_database_files(
    sqlite_server: tuple[ServerProcess, str, Path],
) -> None:
    server, root, directory = sqlite_server
    canary = new_canary()
    with httpx.Client(base_url=server.address + "/v1/", timeout=30) as client:

        def send(request: CanaryRequest) -> tuple[int, bytes]:
            token = root if request.token is None else request.token
            headers = {**request.headers, **({"X-Vault-Token": token} if token else {})}
            reply = client.request(request.method, request.path, json=request.json, content=request.content,
                                   headers=headers)
            return reply.status_code, reply.content

        leaks = run_scenario(send, canary)
        assert client.get("secret/data/app", headers={"X-Vault-Token": root}).json()["data"]["data"] == {
            "password": canary + "-v3"
        }
    assert leaks == []
    files = database_bytes(directory)
    assert "strongroom.db" in files
    assert sum(len(b) for b in files.values()) > 0
    assert [name for name, data in files.items() if canary.encode() in data] == []
    server.stop()
    # After a clean stop the WAL is checkpointed into the main file: scan again.
    files = database_bytes(directory)
    assert [name for name, data in files.items() if canary.encode() in data] == []
    log = server.log_path.read_bytes()
    assert b"permission denied" in log, "the workers' request logs should reach the log file"
    assert canary.encode() not in log
