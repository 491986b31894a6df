"""A storage decorator that records the latency of every physical operation.

Installed by the composition root around the physical backend (below the
barrier), so it times what the store itself costs: SQLite reads and commits,
not encryption. It passes every call through unchanged, errors included (a
failed call is timed too), and sees only keys and ciphertext, never recording
either: the labels are the backend type and the operation name.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from strongroom.core import telemetry
from strongroom.core.metrics.buffer import BUFFER
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

OPERATIONS = ("get", "put", "delete", "list", "transaction")


class TimedStorage(StorageBackend):
    """Wraps ``inner``; ``backend`` (e.g. ``sqlite``) labels its timings."""

    def __init__(self, inner: StorageBackend, backend: str) -> None:
        self.inner = inner
        # Children bound once: labels() costs a dict lookup and a lock on every call otherwise.
        self._timers = {op: telemetry.STORAGE_SECONDS.labels(backend, op) for op in OPERATIONS}

    def __repr__(self) -> str:
        return f"TimedStorage({self.inner!r})"

    def __getattr__(self, name: str) -> Any:
        # Capabilities beyond the contract (a backend's own counters, say) stay reachable.
        if name == "inner":  # not set yet (a half-built object): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def revision(self) -> int | None:
        return self.inner.revision()

    async def get(self, key: str) -> bytes | None:
        started = time.perf_counter()
        try:
            return await self.inner.get(key)
        finally:
            BUFFER.observe(self._timers["get"], time.perf_counter() - started)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        started = time.perf_counter()
        try:
            return await self.inner.get_with_version(key)
        finally:
            BUFFER.observe(self._timers["get"], time.perf_counter() - started)

    async def put(self, key: str, value: bytes) -> None:
        started = time.perf_counter()
        try:
            await self.inner.put(key, value)
        finally:
            BUFFER.observe(self._timers["put"], time.perf_counter() - started)

    async def delete(self, key: str) -> None:
        started = time.perf_counter()
        try:
            await self.inner.delete(key)
        finally:
            BUFFER.observe(self._timers["delete"], time.perf_counter() - started)

    async def list(self, prefix: str) -> list[str]:
        started = time.perf_counter()
        try:
            return await self.inner.list(prefix)
        finally:
            BUFFER.observe(self._timers["list"], time.perf_counter() - started)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        started = time.perf_counter()
        try:
            await self.inner.transaction(ops, preconditions)
        finally:
            BUFFER.observe(self._timers["transaction"], time.perf_counter() - started)

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()
