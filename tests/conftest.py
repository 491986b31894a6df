"""Shared fixtures: real server processes reached over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.sdk.system import ManualClock
from tests.api.api_support import started_server
from tests.support.inprocess import InProcessServer
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running


@pytest.fixture(scope="session")
def dev_server_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One dev server (in-memory, unsealed, KV v2 at secret/) for the whole session."""
    with running(dev_server_process(tmp_path_factory.mktemp("dev"))) as server:
        yield server


@pytest.fixture(scope="session")
def dev_server(dev_server_handle: ServerProcess) -> tuple[str, str]:
    """``(address, root_token)`` of the session's dev server."""
    return dev_server_handle.address, ROOT_TOKEN


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[InProcessServer]:
    """An in-process server: initialised and unsealed, KV v2 at ``secret/``, time moved only by ``clock``."""
    with started_server(clock=clock) as srv:
        yield srv
