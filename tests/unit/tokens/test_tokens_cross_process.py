"""Two stores over one storage, as two worker processes: a rewrite racing a revocation never resurrects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pytest
from tokens_harness import Harness, harness, run

from strongroom.core.tokens.entry import TokenSpec
from strongroom.core.tokens.store import TokenStore
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.storage import StorageBackend, TxnOp
from strongroom.storage.inmem import InmemBackend


class RevokeBeforeNextPut(StorageBackend):
    """Storage that runs ``hook`` just before the first put of a token entry: the worst interleaving."""

    def __init__(self, inner: InmemBackend) -> None:
        self.inner = inner
        self.hook: Callable[[], Awaitable[None]] | None = None

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def put(self, key: str, value: bytes) -> None:
        if self.hook is not None and key.startswith("id/"):
            hook, self.hook = self.hook, None
            await hook()
        await self.inner.put(key, value)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def list(self, prefix: str) -> list[str]:
        return await self.inner.list(prefix)

    async def transaction(self, ops: Sequence[TxnOp]) -> None:
        await self.inner.transaction(ops)


def two_workers() -> tuple[Harness, TokenStore, RevokeBeforeNextPut]:
    """Worker B is the harness's store; worker A shares its storage through the racing wrapper."""
    h = harness()
    racing = RevokeBeforeNextPut(h.storage)
    worker_a = TokenStore(racing, clock=h.clock, random_bytes=h.system.random_bytes)
    return h, worker_a, racing


@pytest.mark.parametrize("operation", ["renew", "use"])
def test_a_rewrite_racing_a_revocation_in_another_worker_undoes_itself(operation: str) -> None:
    async def scenario() -> None:
        h, worker_a, racing = two_workers()
        worker_b = h.store
        _, root = await worker_b.create_root()
        token, _ = await worker_b.create(
            TokenSpec(policies=("dev",), num_uses=5), creator=root, system=h.system
        )
        seen_by_a = await worker_a.lookup(token)
        assert seen_by_a is not None

        async def revoke_in_b() -> None:
            victim = await worker_b.lookup(token)
            assert victim is not None
            await worker_b.revoke_tree(victim)

        racing.hook = revoke_in_b
        if operation == "renew":
            with pytest.raises(InvalidRequest, match="token not found"):
                await worker_a.renew(seen_by_a, 60, system=h.system)
        else:
            with pytest.raises(PermissionDenied):
                await worker_a.use(seen_by_a)
        assert racing.hook is None  # the race really happened
        assert await worker_a.lookup(token) is None
        assert await worker_b.lookup(token) is None
        assert [k for k in racing.inner._data if k.startswith("id/")] == [f"id/{root.id_hash}"]

    run(scenario())
