"""Fixtures for the security regression tests: a fresh in-process server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.api.api_support import started_server
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[InProcessServer]:
    """Initialised and unsealed, dev mounts (KV v2 at ``secret/``), time moved only by ``clock``."""
    with started_server(clock=clock) as srv:
        yield srv
