"""The node's one background loop: lease expiry and scheduled jobs, ticked together.

One task per node runs it (the single process, or worker 0 of the
supervisor's node; see ``docs/rotation.md``). Lease expiry stays its own
index (``strongroom.core.leases``): a lease is not a job a backend schedules
but a deadline the core keeps for it, and its revocation has its own retry and
irrevocable rules. Both are driven by this loop, so one place decides when
background work runs, and both are exactly-once by the same conditional-claim
technique. Running the loop in more processes is safe, not only wasteful.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger("strongroom.scheduler")

#: Seconds between idle ticks; while a tick finds a full batch the next follows after a short pause only.
TICK_SECONDS = 1.0
CATCH_UP_PAUSE = 0.05

#: One kind of background work: runs what is due, answers True when a full batch was found (a backlog).
Tick = Callable[[], Awaitable[bool]]


async def run_ticks(
    ticks: Sequence[tuple[str, Tick]],
    stop: asyncio.Event,
    *,
    ready: Callable[[], bool],
    interval: float = TICK_SECONDS,
) -> None:
    """Tick every ``(name, tick)`` in turn until ``stop`` is set; skip while ``ready()`` is false (sealed).

    An error in one tick is logged and does not stop the others or the loop.
    """
    while not stop.is_set():
        pause = interval
        if ready():
            for name, tick in ticks:
                try:
                    if await tick():
                        pause = CATCH_UP_PAUSE
                except Exception:
                    log.exception("%s tick failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
