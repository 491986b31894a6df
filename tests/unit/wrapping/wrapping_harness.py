"""Set-up for the wrapping tests: a token store and a wrapping store over in-memory storage."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from strongroom.core.tokens.store import TokenStore
from strongroom.core.wrapping import WrappingStore
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
MAX_TTL = 7200


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Node:
    """What one worker process holds: its own token store (own lock, own caches) and wrapping store."""

    tokens: TokenStore
    wrapping: WrappingStore


def node(storage: StorageBackend, clock: ManualClock) -> Node:
    """A worker over ``storage`` (which other nodes may share), wired as the core wires it."""
    tokens = TokenStore(storage, clock=clock, random_bytes=os.urandom)
    system = SystemView(system_default_lease_ttl=MAX_TTL, system_max_lease_ttl=MAX_TTL, clock=clock,
                        random_bytes=os.urandom)
    wrapping = WrappingStore(_prefixed(storage), tokens, system)
    tokens.on_revoke.append(wrapping.forget)
    return Node(tokens, wrapping)


def _prefixed(storage: StorageBackend) -> StorageBackend:
    from strongroom.crypto.view import StorageView

    return StorageView(storage, "wrapping/")


def fresh() -> tuple[InmemBackend, ManualClock, Node]:
    storage = InmemBackend()
    clock = ManualClock()
    return storage, clock, node(storage, clock)
