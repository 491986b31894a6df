"""Two workers' Cores in one process over one storage, with the other worker acting at a chosen moment.

Real worker processes cannot be made to interleave at an exact step, so these
helpers build what each worker process holds (a Barrier and a Core over the
shared storage) side by side. Worker B reaches storage through
:class:`OtherWorkerFirst`, which runs a hook (worker A's action) once, right
before B's next read or write of a chosen key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.core.core import Core
from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.server.node import apply_key_event, build_core, local_seal_manager
from strongroom.server.settings import NodeSettings
from strongroom.storage.inmem import InmemBackend

SETTINGS = NodeSettings(storage_type="sqlite")
Hook = Callable[[], Awaitable[Any]]


class OtherWorkerFirst(StorageBackend):
    """Storage as worker B sees it: runs a hook once before B's next read, or next write, of a key."""

    def __init__(self, inner: StorageBackend) -> None:
        self.inner = inner
        self._before_read: dict[str, Hook] = {}
        self._before_write: dict[str, Hook] = {}

    def before_read(self, key: str, hook: Hook) -> None:
        self._before_read[key] = hook

    def before_write(self, key: str, hook: Hook) -> None:
        self._before_write[key] = hook

    def assert_raced(self) -> None:
        assert not self._before_read, "worker B never read the key: nothing raced"
        assert not self._before_write, "worker B never wrote the key: nothing raced"

    async def _run(self, hooks: dict[str, Hook], keys: Sequence[str]) -> None:
        for key in keys:
            hook = hooks.pop(key, None)
            if hook is not None:
                await hook()

    async def get(self, key: str) -> bytes | None:
        await self._run(self._before_read, [key])
        return await self.inner.get(key)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        await self._run(self._before_read, [key])
        return await self.inner.get_with_version(key)

    async def put(self, key: str, value: bytes) -> None:
        await self._run(self._before_write, [key])
        await self.inner.put(key, value)

    async def delete(self, key: str) -> None:
        await self._run(self._before_write, [key])
        await self.inner.delete(key)

    async def list(self, prefix: str) -> list[str]:
        return await self.inner.list(prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        await self._run(self._before_write, [op.key for op in ops])
        await self.inner.transaction(ops, preconditions)


@dataclass
class TwoWorkers:
    a: Core
    b: Core
    racing: OtherWorkerFirst
    root_key: bytes
    root_token: str

    async def unseal_b(self) -> None:
        await apply_key_event(self.b, KeyEvent("unsealed", self.root_key))


async def two_workers(*, unseal_a: bool = True) -> TwoWorkers:
    """Worker A initialises the shared storage (and unseals, unless told not to); B is built sealed."""
    physical = InmemBackend()
    root_keys: list[bytes] = []

    async def on_key(event: KeyEvent) -> None:
        if event.root_key is not None:
            root_keys.append(event.root_key)
            if not unseal_a:
                return
        await apply_key_event(core_a, event)

    barrier_a = Barrier(physical)
    seal = local_seal_manager(barrier_a, on_key, "sqlite")
    core_a = build_core(SETTINGS, physical, seal, barrier_a)
    result = await seal.initialize_with_token(1, 1, None)
    await seal.unseal_with_keys(result.keys)

    racing = OtherWorkerFirst(physical)
    barrier_b = Barrier(racing)

    async def ignore(_: KeyEvent) -> None:
        return None

    core_b = build_core(SETTINGS, racing, local_seal_manager(barrier_b, ignore, "sqlite"), barrier_b)
    return TwoWorkers(core_a, core_b, racing, root_keys[0], result.root_token)
