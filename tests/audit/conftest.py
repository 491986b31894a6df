"""A real two-worker SQLite node for audit tests, and collectors that can be made to stop listening."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.process_harness import Api, enable_kv2, initialize, unseal, worker_pids
from tests.support.server import ServerProcess, sqlite_server_process

WORKERS = 2


@dataclass
class AuditedNode:
    """An initialised, unsealed node with KV v2 at ``secret/`` and no audit device yet."""

    server: ServerProcess
    api: Api
    directory: Path

    @property
    def root(self) -> str:
        return self.api.token

    def workers(self) -> list[int]:
        return worker_pids(self.server, WORKERS)

    def enable(self, path: str, device_type: str, **options: str) -> httpx.Response:
        return self.api.request("PUT", f"sys/audit/{path}", json={"type": device_type, "options": options})

    def public_key(self) -> str:
        devices = self.api.request("GET", "sys/audit").json()["data"]
        return str(next(iter(devices.values()))["checkpoint_public_key"])

    def audit_hash(self, device: str, value: str) -> str:
        return str(self.api.request("POST", f"sys/audit-hash/{device}", json={"input": value}).json()["hash"])

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.api.request(method, path, **kwargs)


@contextlib.contextmanager
def audited_node(directory: Path) -> Iterator[AuditedNode]:
    """A node in ``directory``, stopped on exit whatever happened."""
    server = sqlite_server_process(directory, workers=WORKERS)
    server.start()
    try:
        api = Api(server.address)
        keys = initialize(api, shares=1, threshold=1)
        unseal(api, keys, threshold=1)
        api.token = keys.root_token
        enable_kv2(api)
        yield AuditedNode(server, api, directory)
    finally:
        server.stop()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AuditedNode]:
    with audited_node(tmp_path) as started:
        yield started


class FifoReader:
    """Reads a FIFO on a thread (so writers can open it) until :meth:`stop` closes the read end."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                chunk = os.read(self.fd, 1 << 16)
                if chunk:
                    self.data += chunk
                else:
                    self._stop.wait(0.01)  # no writer right now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.fd)


class Collector:
    """A TCP log collector: accepts connections and reads them while ``reading`` is set."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills quickly once unread
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(16)
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.reading = threading.Event()
        self.reading.set()
        self.data = bytearray()
        self._stop = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = self.listener.accept()
                conn.setblocking(False)
                self._connections.append(conn)
            if not self.reading.is_set():
                continue
            for conn in list(self._connections):
                with contextlib.suppress(BlockingIOError):
                    chunk = conn.recv(1 << 16)
                    if chunk:
                        self.data += chunk
                    else:
                        self._connections.remove(conn)
                        conn.close()

    def stop_listening(self) -> None:
        """Stop reading every connection and refuse new ones: a collector that hung."""
        self.reading.clear()
        self._stop.set()
        self._thread.join(5)
        self.listener.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for conn in self._connections:
            conn.close()
        self._connections.clear()


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str = "256k") -> Iterator[Path]:
    """A small tmpfs (tests run as root): a disk that fills up."""
    directory.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)
