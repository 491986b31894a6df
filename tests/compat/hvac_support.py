"""Helpers for the hvac compatibility suite: clients, unique names, and pinning requests to one worker.

Every helper talks to a real server process over real HTTP; nothing here imports the server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
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


@contextlib.contextmanager
def served_only_by(pids: list[int], chosen: int) -> Iterator[None]:
    """Stop every worker but ``chosen`` so that new connections can only be accepted by it.

    The workers share one listening socket; a stopped process does not call accept, so the
    kernel hands every new connection to the running one. Never hold this across a call
    that broadcasts to all workers (final unseal key, seal, rotate): the supervisor waits
    for every worker's acknowledgement.
    """
    others = [pid for pid in pids if pid != chosen]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)
