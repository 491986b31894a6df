"""Fixtures for process-model tests: a fresh SQLite-backed node per test, always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.process_harness import Api, InitKeys, enable_kv2, initialize, unseal, worker_pids
from tests.support.server import ServerProcess, sqlite_server_process

WORKERS = 2


@dataclass
class Node:
    """A running, initialised node: its process, its keys, an API client holding the root token."""

    server: ServerProcess
    keys: InitKeys
    api: Api

    def workers(self) -> list[int]:
        return worker_pids(self.server, WORKERS)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A started (uninitialised) node with two workers; stopped after the test whatever happened."""
    process = sqlite_server_process(tmp_path, workers=WORKERS)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def node(server: ServerProcess) -> Node:
    """The node initialised (3 shares, threshold 2), unsealed, with KV v2 at ``secret/``."""
    api = Api(server.address)
    keys = initialize(api)
    unseal(api, keys)
    api.token = keys.root_token
    enable_kv2(api)
    return Node(server, keys, api)
