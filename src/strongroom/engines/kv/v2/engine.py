"""What every KV v2 handler needs: the mount context, the per-secret locks, "now", storage, retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from strongroom.errors import StorageConflict
from strongroom.sdk.logical import BackendContext, Request

from ..common import KeyLocks, now_ns, request_storage
from .model import SecretMeta
from .store import V2Store

T = TypeVar("T")

#: How many times a read-modify-write runs before a conflict is given up (and answered as a 500).
CONFLICT_ATTEMPTS = 10
#: The back-off after the n-th conflict is up to n times this many seconds, scaled by a random factor.
CONFLICT_BACKOFF = 0.002


class Engine:
    """Shared state of one KV v2 mount. Holds no secret data: every read goes to storage."""

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.locks = KeyLocks()

    def store(self, req: Request) -> V2Store:
        return V2Store(request_storage(req, self.ctx.storage))

    def now(self) -> int:
        """Nanoseconds from the injected clock (never the wall clock directly: tests move time)."""
        return now_ns(self.ctx.system.clock)

    def new_meta(self, now: int) -> SecretMeta:
        return SecretMeta(id=self.ctx.system.random_bytes(16).hex(), created_ns=now, updated_ns=now)

    async def retry_on_conflict(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (one read-modify-write) again while its commit is refused as stale.

        ``attempt`` must read everything it decides on afresh and commit with a
        precondition on what it read, so each run re-checks the rules (a
        check-and-set that no longer matches is the usual 400 then). The
        per-secret lock already orders writers in this process; conflicts come
        from other worker processes, and a short random back-off keeps two of
        them from colliding in step. After :data:`CONFLICT_ATTEMPTS` the
        :class:`StorageConflict` propagates.
        """
        tries = 1
        while True:
            try:
                return await attempt()
            except StorageConflict:
                if tries >= CONFLICT_ATTEMPTS:
                    raise
            jitter = self.ctx.system.random_bytes(1)[0] / 255
            await asyncio.sleep(CONFLICT_BACKOFF * tries * jitter)
            tries += 1
