"""Reading an event subscription opened inside an in-process core (``core.subscribe_events``)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.inprocess import InProcessServer

WAIT = 20.0  # an upper bound on waiting for the events hub, never an asserted duration


def collect(server: InProcessServer, sub: Any, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of ``sub``, after the publisher has written every pending one."""

    async def take() -> list[dict[str, Any]]:
        await server.core.event_publisher.drain()
        got = []
        for _ in range(count):
            event = await asyncio.wait_for(sub.next(), WAIT)
            assert event is not None, sub.closed_reason
            got.append(event)
        return got

    return server.run(take())
