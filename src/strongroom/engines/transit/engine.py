"""What every transit handler shares: the mount context, the parsed-key cache, storage, clock and randomness."""

from __future__ import annotations

from strongroom.sdk.logical import BackendContext, Request

from .errors import key_not_found
from .policy import KeyPolicy
from .rotation import rotated_if_due
from .store import KeyStore, PolicyCache


class Engine:
    """Shared state of one transit mount. Holds no key material of its own beyond the parsed-key cache."""

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.cache = PolicyCache()

    def store(self, req: Request | None = None) -> KeyStore:
        storage = req.storage if req is not None and req.storage is not None else self.ctx.storage
        return KeyStore(storage, self.cache, self.ctx.system.random_bytes)

    def now(self) -> float:
        """Seconds from the injected clock (tests move it; nothing here reads the wall clock)."""
        return self.ctx.system.clock()

    def random(self, count: int) -> bytes:
        return self.ctx.system.random_bytes(count)

    async def key(self, store: KeyStore, name: str, purpose: str = "encryption") -> KeyPolicy:
        """The key ``name``, or Vault's 400 ``<purpose> key not found``."""
        policy = await store.get(name)
        if policy is None:
            raise key_not_found(purpose)
        return policy

    async def key_for_output(self, store: KeyStore, name: str, purpose: str = "encryption") -> KeyPolicy:
        """The key ``name`` ready to make new output: rotated first if its auto-rotation is due."""
        return await rotated_if_due(store, await self.key(store, name, purpose), self.now)

    def forget(self) -> None:
        """Drop every parsed key (on seal or unmount)."""
        self.cache.clear()
