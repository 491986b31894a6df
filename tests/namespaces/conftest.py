"""Namespace tests: an in-process server with a leasing engine (the lease tests' fake target) registered."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "leases"))

from leases_harness import Target, factory
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock


@pytest.fixture
def target() -> Target:
    return Target()


@pytest.fixture
def ns_server(target: Target) -> Iterator[InProcessServer]:
    """Initialised, unsealed, KV v2 at ``secret/``, the ``leasetest`` engine available; time moves by hand."""
    srv = InProcessServer(clock=ManualClock())
    srv.core.registry.secrets["leasetest"] = factory(target)
    srv.init_and_unseal()
    yield srv
    srv.close()
