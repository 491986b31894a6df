"""Quotas and their configuration in the barrier (``sys/quotas/`` view): every worker reads the same ones."""

from __future__ import annotations

import orjson

from strongroom.core.quotas.model import QuotaConfig, RateLimitQuota
from strongroom.sdk.storage import StorageBackend

_RATE_LIMIT = "rate-limit/"
_CONFIG = "config"


class QuotaStore:
    def __init__(self, storage: StorageBackend) -> None:
        self._storage = storage

    async def names(self) -> list[str]:
        return sorted(await self._storage.list(_RATE_LIMIT))

    async def get(self, name: str) -> RateLimitQuota | None:
        raw = await self._storage.get(_RATE_LIMIT + name)
        return None if raw is None else RateLimitQuota.from_json(orjson.loads(raw))

    async def all(self) -> list[RateLimitQuota]:
        found = [await self.get(name) for name in await self.names()]
        return [quota for quota in found if quota is not None]

    async def put(self, quota: RateLimitQuota) -> None:
        await self._storage.put(_RATE_LIMIT + quota.name, orjson.dumps(quota.to_json()))

    async def delete(self, name: str) -> None:
        await self._storage.delete(_RATE_LIMIT + name)

    async def config(self) -> QuotaConfig:
        raw = await self._storage.get(_CONFIG)
        return QuotaConfig() if raw is None else QuotaConfig.from_json(orjson.loads(raw))

    async def put_config(self, config: QuotaConfig) -> None:
        await self._storage.put(_CONFIG, orjson.dumps(config.to_json()))
