"""What every KV v2 handler needs: the mount context, the per-secret locks, "now", storage."""

from __future__ import annotations

from strongroom.sdk.logical import BackendContext, Request

from ..common import KeyLocks, now_ns, request_storage
from .model import SecretMeta
from .store import V2Store


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
