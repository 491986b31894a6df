"""Helpers for the hvac compatibility suite: clients, unique names, and pinning requests to one worker.

Every helper talks to a real server process over real HTTP; nothing here imports the server.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import hvac
import requests
from tests.integration.process_harness import owner_of_connection
from tests.support.server import ServerProcess


def client(address: str, token: str | None = None) -> hvac.Client:
    """A fresh hvac client (and so a fresh connection) to ``address``."""
    return hvac.Client(url=address, token=token, timeout=15)


def unique(prefix: str) -> str:
    """A name no other test on the shared dev server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token_with_policy(root: hvac.Client, name: str, rules: str, *, with_default: bool = False) -> hvac.Client:
    """Write policy ``name`` and return a client holding a token with that policy (and ``default`` if asked)."""
    root.sys.create_or_update_policy(name, rules)
    created = root.auth.token.create(policies=[name], no_default_policy=not with_default, ttl="10m")
    return client(root.url, created["auth"]["client_token"])


def worker_pids(server: ServerProcess, count: int, timeout: float = 10) -> list[int]:
    """The pids of the supervisor's worker processes, once all ``count`` of them are running."""
    assert server.process is not None
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(p) for p in children.read_text().split()]
        if len(pids) == count:
            return sorted(pids)
        time.sleep(0.05)
    raise AssertionError(f"expected {count} workers, found {children.read_text()!r}")


def pinned_client(server: ServerProcess, pids: list[int], chosen: int, token: str | None = None) -> hvac.Client:
    """An hvac client whose kept-alive connection was accepted by worker ``chosen``.

    Each worker has its own SO_REUSEPORT socket and the kernel picks one per
    connection, so: open a connection, ask /proc which worker holds its far end,
    and start over until it is ``chosen``. Later requests reuse that connection.
    """
    url = httpx.URL(server.address)
    assert url.port is not None
    for _ in range(200):
        session = requests.Session()
        session.get(f"{server.address}/v1/sys/health", timeout=10)
        manager = session.get_adapter(server.address).poolmanager
        pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118 - a container, not a dict
        conns = [c for pool in pools if pool.pool is not None for c in pool.pool.queue if c is not None]
        sock = getattr(conns[0], "sock", None) if len(conns) == 1 else None
        if sock is not None and owner_of_connection(url.port, sock.getsockname()[1], pids) == chosen:
            return hvac.Client(url=server.address, token=token, session=session)
        session.close()
    raise AssertionError(f"no connection landed on worker {chosen}")
