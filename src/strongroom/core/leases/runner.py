"""The expiry tick of the node's background loop (``strongroom.core.scheduler.runner``).

It runs in one process per node (the single process, or worker 0 of the
supervisor's node; see ``docs/leases.md``). Running it in more processes is
safe, not wasteful only: revocations are claimed with conditional writes
(``manager``), so each due lease is revoked by one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from strongroom.core.leases.manager import ExpirationManager
from strongroom.core.scheduler.runner import TICK_SECONDS, Tick, run_ticks


def expiry_tick(manager: ExpirationManager) -> Tick:
    """Revoke the due leases (a batch of ``LeaseConfig.batch``); True when the batch was full."""

    async def tick() -> bool:
        return await manager.expire_due() >= manager.config.batch

    return tick


async def run_expiry(
    manager: ExpirationManager, stop: asyncio.Event, *, ready: Callable[[], bool], interval: float = TICK_SECONDS
) -> None:
    """Only the lease expiry, ticked until ``stop`` is set (``bench/leases.py``; the server ticks everything)."""
    await run_ticks([("lease expiry", expiry_tick(manager))], stop, ready=ready, interval=interval)
