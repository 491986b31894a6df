"""A Shamir-sealed node in memory for seal-manager unit tests: barrier, seal manager and token store, no HTTP."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from strongroom.core.seal import KeyEvent, LocalSealManager
from strongroom.core.tokens.entry import TokenEntry
from strongroom.core.tokens.store import TokenStore
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.sdk.storage import StorageBackend
from strongroom.storage.inmem import InmemBackend


def token_store(barrier: Barrier) -> TokenStore:
    return TokenStore(StorageView(barrier, "sys/token/"), clock=time.time, random_bytes=os.urandom)


async def mint_root(barrier: Barrier, token_id: str | None) -> str:
    token, _ = await token_store(barrier).create_root(token_id)
    return token


@dataclass
class SealNode:
    """One node over ``physical``; ``events`` records the key events the seal manager emitted."""

    physical: StorageBackend
    barrier: Barrier
    seal: LocalSealManager
    events: list[str] = field(default_factory=list)

    @classmethod
    def over(cls, physical: StorageBackend) -> SealNode:
        """A node as it is after a (re)start: sealed, no progress in memory."""
        barrier = Barrier(physical)
        events: list[str] = []

        async def on_key(event: KeyEvent) -> None:
            events.append(event.kind)

        seal = LocalSealManager(
            barrier,
            mint_root_token=mint_root,
            on_key=on_key,
            random_bytes=os.urandom,
            clock=time.time,
            storage_type="inmem",
        )
        return cls(physical, barrier, seal, events)

    async def lookup(self, token: str) -> TokenEntry | None:
        return await token_store(self.barrier).lookup(token)


async def initialised_node(shares: int = 5, threshold: int = 3) -> tuple[SealNode, list[str]]:
    """A fresh node, initialised and unsealed; returns it with its hex unseal keys."""
    node = SealNode.over(InmemBackend())
    answer = await node.seal.initialize(shares, threshold)
    keys: list[str] = answer["keys"]
    for key in keys[:threshold]:
        await node.seal.unseal(key, reset=False)
    assert node.barrier.sealed is False
    return node, keys
