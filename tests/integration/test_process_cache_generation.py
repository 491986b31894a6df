"""Two workers' Cores over one storage, with the other worker changing mounts at the worst moment.

The real-process tests cannot choose when a change lands inside another
worker's unseal. Here worker B reads storage through a wrapper that lets
worker A enable a mount exactly when B reads the generation counter while
it unseals. Whatever the interleaving, B must not end up holding a mount table
older than the generation it recorded, or it would never see the mount.
(Found by the crash test: a worker that became ready late answered 404 for a
mount enabled while it was loading its tables.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strongroom.core.core import GENERATION_KEY, Core, IncomingRequest
from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.sdk.logical import Operation
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.server.node import apply_key_event, build_core, local_seal_manager
from strongroom.server.settings import NodeSettings
from strongroom.storage.inmem import InmemBackend

SETTINGS = NodeSettings(storage_type="sqlite")


class OtherWorkerAtGenerationRead(StorageBackend):
    """Runs ``hook`` once, just before the next read of the generation counter."""

    def __init__(self, inner: StorageBackend) -> None:
        self.inner = inner
        self.hook: Callable[[], Awaitable[Any]] | None = None

    async def get(self, key: str) -> bytes | None:
        if key == GENERATION_KEY and self.hook is not None:
            hook, self.hook = self.hook, None
            await hook()
        return await self.inner.get(key)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        return await self.inner.get_with_version(key)

    async def put(self, key: str, value: bytes) -> None:
        await self.inner.put(key, value)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def list(self, prefix: str) -> list[str]:
        return await self.inner.list(prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        await self.inner.transaction(ops, preconditions)


async def unsealed_worker(physical: StorageBackend) -> tuple[Core, bytes, str]:
    """Worker A: initialises and unseals the shared storage; returns its Core, the root key and root token."""
    root_keys: list[bytes] = []

    async def on_key(event: KeyEvent) -> None:
        if event.root_key is not None:
            root_keys.append(event.root_key)
        await apply_key_event(core, event)

    barrier = Barrier(physical)
    seal = local_seal_manager(barrier, on_key, "sqlite")
    core = build_core(SETTINGS, physical, seal, barrier)
    result = await seal.initialize_with_token(1, 1, None)
    await seal.unseal_with_keys(result.keys)
    return core, root_keys[0], result.root_token


async def mount_enabled_while_the_other_worker_unseals() -> dict[str, Any]:
    """Worker B unseals while A enables ``late/``; then B writes a secret there and returns the answer's data."""
    physical = InmemBackend()
    worker_a, root_key, root_token = await unsealed_worker(physical)

    racing = OtherWorkerAtGenerationRead(physical)
    barrier_b = Barrier(racing)

    async def ignore(_: KeyEvent) -> None:
        return None

    worker_b = build_core(SETTINGS, racing, local_seal_manager(barrier_b, ignore, "sqlite"), barrier_b)

    async def enable_through_a() -> None:
        await worker_a.mounts.enable("secret", "late", "kv", options={"version": "2"})

    racing.hook = enable_through_a
    await apply_key_event(worker_b, KeyEvent("unsealed", root_key))
    assert racing.hook is None, "worker A never ran: nothing raced"

    outcome = await worker_b.handle(
        IncomingRequest(Operation.UPDATE, "late/data/x", {"data": {"a": "b"}}, token=root_token)
    )
    assert outcome.response is not None
    assert outcome.response.data is not None
    return outcome.response.data


def test_mount_enabled_while_another_worker_unseals_is_routed_by_that_worker() -> None:
    assert asyncio.run(mount_enabled_while_the_other_worker_unseals())["version"] == 1
