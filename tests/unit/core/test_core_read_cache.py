"""RevisionCache: reads are served from memory only while nothing has been written anywhere."""

from __future__ import annotations

import asyncio

from strongroom.core.read_cache import RevisionCache
from strongroom.sdk.storage import TxnOp
from strongroom.storage.inmem import InmemBackend


class CountingBackend(InmemBackend):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    async def get(self, key: str) -> bytes | None:
        self.gets += 1
        return await super().get(key)


def test_repeated_reads_hit_storage_once_until_invalidated() -> None:
    async def scenario() -> None:
        inner = CountingBackend()
        await inner.put("t", b"1")
        cache = RevisionCache(inner)
        assert [await cache.get("t") for _ in range(3)] == [b"1"] * 3
        assert inner.gets == 1
        cache.invalidate()
        assert await cache.get("t") == b"1"
        assert inner.gets == 2

    asyncio.run(scenario())


def test_absent_keys_are_cached_too_and_local_writes_drop_them() -> None:
    async def scenario() -> None:
        inner = CountingBackend()
        cache = RevisionCache(inner)
        assert await cache.get("t") is None
        await cache.put("t", b"new")
        assert await cache.get("t") == b"new"
        await cache.transaction([TxnOp("t", b"newer")])
        assert await cache.get("t") == b"newer"
        await cache.delete("t")
        assert await cache.get("t") is None

    asyncio.run(scenario())


def test_a_write_by_someone_else_is_invisible_until_the_revision_check_invalidates() -> None:
    async def scenario() -> None:
        inner = CountingBackend()
        await inner.put("t", b"live")
        cache = RevisionCache(inner)
        seen = inner.revision()
        assert await cache.get("t") == b"live"
        await inner.delete("t")  # another process revokes the token
        assert inner.revision() != seen  # which is what the core checks before each request
        cache.invalidate()
        assert await cache.get("t") is None

    asyncio.run(scenario())


def test_the_cache_is_bounded() -> None:
    async def scenario() -> None:
        cache = RevisionCache(InmemBackend(), max_entries=3)
        for key in "abcdef":
            await cache.get(key)
        assert len(cache._entries) <= 3

    asyncio.run(scenario())
