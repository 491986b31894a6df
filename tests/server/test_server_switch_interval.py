"""A serving process shortens the interpreter's thread switch interval (see ``node.SWITCH_INTERVAL``).

The SQLite writer thread waits for the GIL after each of its blocking calls; with
Python's default 5 ms interval a busy event loop held every write batch up by
several intervals. ``serve`` is run here for real, with no listener, so it
returns at once.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.server.node import SWITCH_INTERVAL, apply_key_event, build_core, local_seal_manager, serve
from strongroom.server.settings import NodeSettings
from strongroom.storage.inmem import InmemBackend


@pytest.fixture
def default_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield 0.005
    sys.setswitchinterval(before)


def test_serve_sets_a_short_switch_interval(default_interval: float) -> None:
    settings = NodeSettings(listeners=())
    physical = InmemBackend()
    barrier = Barrier(physical)

    async def on_key(event: KeyEvent) -> None:
        await apply_key_event(core, event)

    core = build_core(settings, physical, local_seal_manager(barrier, on_key, "inmem"), barrier)
    assert sys.getswitchinterval() == pytest.approx(default_interval)
    asyncio.run(serve(core, settings, [], jobs=False))
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    assert default_interval / 10 > SWITCH_INTERVAL
