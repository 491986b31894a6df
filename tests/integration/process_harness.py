"""Helpers for tests that drive real server processes: init/unseal, the process tree, and
requests pinned to one chosen worker.

A worker is identified without any help from the server: after a request on a
keep-alive connection, the kernel's TCP table (``/proc/net/tcp``) names the
server-side socket of that connection by inode, and exactly one process holds
that inode among its file descriptors (``/proc/<pid>/fd``). So a test can say
"send this through worker A, read it back through worker B" and know it did.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.support.server import ServerProcess

#: Per request; generous because a test may run while the machine is busy.
REQUEST_TIMEOUT = 10.0


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` until it is true; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- the process tree ------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (every thread's children, as the kernel lists them)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found.extend(int(child) for child in text.split())
    return sorted(child for child in set(found) if is_alive(child))


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs. A zombie (dead, not yet reaped by whoever adopted it) counts as dead:
    it holds no sockets and serves nothing."""
    try:
        # The state follows the command name, which is in parentheses and may hold spaces.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def port_is_free(port: int) -> bool:
    """Whether a fresh socket can listen on 127.0.0.1:``port`` (nobody else is listening there)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    return True


def supervisor_pid(server: ServerProcess) -> int:
    assert server.process is not None
    return server.process.pid


def worker_pids(server: ServerProcess, expected: int, timeout: float = 20) -> list[int]:
    """The supervisor's worker processes, once ``expected`` of them are alive."""
    pids: list[int] = []

    def enough() -> bool:
        nonlocal pids
        pids = children_of(supervisor_pid(server))
        return len(pids) == expected

    wait_until(enough, timeout, f"{expected} worker processes")
    return pids


def server_port(server: ServerProcess) -> int:
    return address_port(server.address)


def address_port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


# -- which process serves a connection ---------------------------------------------------------


def _tcp_inode(server_port: int, client_port: int) -> int | None:
    """Inode of the server-side socket of the loopback connection from ``client_port``."""
    wanted_local = f"0100007F:{server_port:04X}"
    wanted_remote = f":{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted_local and fields[2].endswith(wanted_remote):
            return int(fields[9])
    return None


def owner_of_connection(server_port: int, client_port: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` holds the accepted socket of the connection from ``client_port``."""
    inode = _tcp_inode(server_port, client_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(FileNotFoundError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
    return None


def _client_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    sock = stream.get_extra_info("socket")
    return int(sock.getsockname()[1])


@dataclass
class Api:
    """Talks to one server address, opening a new TCP connection for every request."""

    address: str
    token: str = ""

    def headers(self, token: str | None) -> dict[str, str]:
        chosen = self.token if token is None else token
        return {"X-Vault-Token": chosen} if chosen else {}

    def request(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                params: dict[str, Any] | None = None) -> httpx.Response:
        """One request on a fresh connection (closed afterwards), so the kernel picks the worker."""
        with httpx.Client(base_url=self.address, timeout=REQUEST_TIMEOUT) as client:
            return client.request(method, "/v1/" + path, headers=self.headers(token), json=json, params=params)

    @contextlib.contextmanager
    def pinned(self, pid: int, candidates: list[int], tries: int = 200) -> Iterator[PinnedClient]:
        """A client whose (single, keep-alive) connection was accepted by worker ``pid``.

        Opens fresh connections until the kernel hands one to ``pid``; each probe is a
        ``sys/seal-status`` read, which every worker answers whatever the seal state.
        """
        port = address_port(self.address)
        for _ in range(tries):
            client = httpx.Client(base_url=self.address, timeout=REQUEST_TIMEOUT,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
            try:
                client_port = _client_port(client.get("/v1/sys/seal-status"))
                if owner_of_connection(port, client_port, candidates) == pid:
                    yield PinnedClient(client, self, pid, client_port)
                    return
            finally:
                client.close()
        raise AssertionError(f"no connection reached worker {pid} in {tries} tries")


@dataclass
class PinnedClient:
    """Requests over one connection that worker ``pid`` accepted; every answer re-checks that."""

    client: httpx.Client
    api: Api
    pid: int
    client_port: int

    def request(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                params: dict[str, Any] | None = None) -> httpx.Response:
        response = self.client.request(method, "/v1/" + path, headers=self.api.headers(token), json=json,
                                       params=params)
        # A server-side keep-alive timeout would make httpx reconnect, possibly to
        # another worker: refuse to let such a request pass as "served by pid".
        assert _client_port(response) == self.client_port, f"the connection to worker {self.pid} was replaced"
        return response


# -- init and unseal -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InitKeys:
    keys: list[str]
    root_token: str


def initialize(api: Api, shares: int = 3, threshold: int = 2) -> InitKeys:
    response = api.request("PUT", "sys/init", json={"secret_shares": shares, "secret_threshold": threshold})
    assert response.status_code == 200, response.text
    body = response.json()
    return InitKeys(keys=list(body["keys"]), root_token=str(body["root_token"]))


def unseal(api: Api, keys: InitKeys, threshold: int = 2) -> None:
    for key in keys.keys[:threshold]:
        response = api.request("PUT", "sys/unseal", json={"key": key})
        assert response.status_code == 200, response.text
    status = api.request("GET", "sys/seal-status").json()
    assert status["sealed"] is False, status


def enable_kv2(api: Api, path: str = "secret") -> None:
    response = api.request("POST", f"sys/mounts/{path}", json={"type": "kv", "options": {"version": "2"}})
    assert response.status_code == 204, response.text
