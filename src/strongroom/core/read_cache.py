"""A per-process cache of decrypted reads for hot, small, non-secret-value entries (tokens).

Entries are kept only while the store's :meth:`~StorageBackend.revision` is
unchanged: the core drops the whole cache at the start of any request that
finds a new revision, so a write by any process (a revoked token, a spent
use) is seen by every later request. Local writes drop their keys at once.
Only ever wrap views holding no secret values: token entries are hashes,
accessors and policy names.
"""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

MAX_ENTRIES = 10_000


class RevisionCache(StorageBackend):
    def __init__(self, inner: StorageBackend, max_entries: int = MAX_ENTRIES) -> None:
        self._inner = inner
        self._max = max_entries
        self._entries: dict[str, bytes | None] = {}

    def invalidate(self) -> None:
        self._entries.clear()

    def revision(self) -> int | None:
        return self._inner.revision()

    async def get(self, key: str) -> bytes | None:
        if key in self._entries:
            return self._entries[key]
        value = await self._inner.get(key)
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = value
        return value

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        # Read-for-update always goes to storage: its version must be current.
        return await self._inner.get_with_version(key)

    async def put(self, key: str, value: bytes) -> None:
        self._entries.pop(key, None)
        await self._inner.put(key, value)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)
        await self._inner.delete(key)

    async def list(self, prefix: str) -> list[str]:
        return await self._inner.list(prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        for op in ops:
            self._entries.pop(op.key, None)
        try:
            await self._inner.transaction(ops, preconditions)
        finally:
            for op in ops:
                self._entries.pop(op.key, None)
