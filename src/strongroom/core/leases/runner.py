"""The expiry loop: one task per node that revokes leases as they fall due.

It runs in one process per node (the single process, or worker 0 of the
supervisor's node; see ``docs/leases.md``). Running it in more processes is
safe, not wasteful only: revocations are claimed with conditional writes
(``manager``), so each due lease is revoked by one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from strongroom.core.leases.manager import ExpirationManager

log = logging.getLogger("strongroom.leases")

#: Seconds between idle ticks; a tick that found a full batch is followed at once by a short pause only.
TICK_SECONDS = 1.0
CATCH_UP_PAUSE = 0.05


async def run_expiry(
    manager: ExpirationManager, stop: asyncio.Event, *, ready: Callable[[], bool], interval: float = TICK_SECONDS
) -> None:
    """Tick until ``stop`` is set. ``ready`` says whether the node is unsealed (ticks are skipped otherwise).

    Overdue leases after a restart are caught up in batches of ``LeaseConfig.batch``
    with a short pause between them, so a backlog never floods the target systems.
    An error in a tick is logged and the loop goes on.
    """
    while not stop.is_set():
        pause = interval
        if ready():
            try:
                if await manager.expire_due() >= manager.config.batch:
                    pause = CATCH_UP_PAUSE
            except Exception:
                log.exception("lease expiry tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
