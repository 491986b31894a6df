"""In-memory storage: for dev mode and tests. Lost on exit; one process only.

Because it lives in one process's memory, a server using it runs a single
worker (documented in docs/architecture.md).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from strongroom.errors import StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, holds, list_children


class InmemBackend(StorageBackend):
    """A sorted dict. Writes are atomic per call (the event loop is single-threaded)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._keys: list[str] = []  # sorted, for prefix scans
        self._revision = 0

    def revision(self) -> int | None:
        return self._revision

    async def get(self, key: str) -> bytes | None:
        return self._data.get(key)

    async def put(self, key: str, value: bytes) -> None:
        self._put(key, bytes(value))

    async def delete(self, key: str) -> None:
        self._delete(key)

    async def list(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._keys, prefix)
        under: list[str] = []
        for key in self._keys[start:]:
            if not key.startswith(prefix):
                break
            under.append(key)
        return list_children(under, prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        # Convert every value before applying any op: a bad value must fail the
        # whole transaction, not leave the ops before it applied.
        prepared = [(op.key, None if op.value is None else bytes(op.value)) for op in ops]
        # No await from here on: the checks and the writes form one step of the event loop.
        if not all(holds(self._data.get(pre.key), pre.expected) for pre in preconditions):
            raise StorageConflict()
        for key, value in prepared:
            if value is None:
                self._delete(key)
            else:
                self._put(key, value)

    def _put(self, key: str, value: bytes) -> None:
        self._revision += 1
        if key not in self._data:
            bisect.insort(self._keys, key)
        self._data[key] = value

    def _delete(self, key: str) -> None:
        self._revision += 1
        if self._data.pop(key, None) is not None:
            index = bisect.bisect_left(self._keys, key)
            del self._keys[index]
