"""Conditional writes through the barrier and views: version tokens are ciphertexts, keys are mapped."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from strongroom.crypto.barrier import KEYRING_PATH, Barrier
from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest, Sealed, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.inmem import InmemBackend
from strongroom.storage.sqlite import SQLiteBackend

T = TypeVar("T")
ROOT_KEY = bytes(range(32))
CANARY = b"canary-5d0c27-plaintext"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def unsealed(physical: StorageBackend) -> Barrier:
    barrier = Barrier(physical)
    if not await barrier.is_initialized():
        await barrier.initialize(ROOT_KEY)
    await barrier.unseal(ROOT_KEY)
    return barrier


class SharedSQLiteBarrier(Barrier):
    """A barrier over its own SQLite connection to a shared file, unsealed on open (for the suite)."""

    async def open(self) -> None:
        await self.physical.open()
        if not await self.is_initialized():
            await self.initialize(ROOT_KEY)
        await self.unseal(ROOT_KEY)

    async def close(self) -> None:
        await self.physical.close()


class TestBarrierOverSharedSQLite(StorageConformance):
    """Two barriers on one file, as two workers: preconditions on ciphertext tokens hold across them."""

    shared_store = True

    def make_backend(self) -> StorageBackend:
        return SharedSQLiteBarrier(SQLiteBackend(str(self.workdir / "store.db")))

    def make_second_instance(self) -> StorageBackend:
        return SharedSQLiteBarrier(SQLiteBackend(str(self.workdir / "store.db")))


def test_the_version_token_is_the_ciphertext_not_the_plaintext() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed(physical)
        await barrier.put("k", CANARY)
        value, version = await barrier.get_with_version("k")
        assert value == CANARY
        assert version == await physical.get("k")
        assert version is not None
        assert CANARY not in version

    run(scenario())


def test_rewriting_the_same_plaintext_makes_an_earlier_token_stale() -> None:
    async def scenario() -> None:
        barrier = await unsealed(InmemBackend())
        await barrier.put("k", b"same")
        _, version = await barrier.get_with_version("k")
        await barrier.put("k", b"same")  # fresh nonce: a different ciphertext
        with pytest.raises(StorageConflict):
            await barrier.transaction([TxnOp("k", b"mine")], preconditions=[Precondition("k", version)])
        assert await barrier.get("k") == b"same"

    run(scenario())


def test_a_precondition_on_a_reserved_path_is_refused_before_anything_is_written() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        barrier = await unsealed(physical)
        keyring = await physical.get(KEYRING_PATH)
        with pytest.raises(InvalidRequest):
            await barrier.transaction([TxnOp("a", b"1")], preconditions=[Precondition(KEYRING_PATH, keyring)])
        assert await barrier.get("a") is None

    run(scenario())


def test_get_with_version_on_a_sealed_barrier_raises_sealed() -> None:
    async def scenario() -> None:
        barrier = await unsealed(InmemBackend())
        await barrier.put("k", b"v")
        barrier.seal()
        with pytest.raises(Sealed):
            await barrier.get_with_version("k")
        with pytest.raises(Sealed):
            await barrier.transaction([], preconditions=[Precondition("k", None)])

    run(scenario())


def test_a_view_checks_preconditions_on_its_own_keys() -> None:
    async def scenario() -> None:
        barrier = await unsealed(InmemBackend())
        view = StorageView(barrier, "logical/a1/")
        await barrier.put("k", b"outside the view")
        await view.put("k", b"inside")
        value, version = await view.get_with_version("k")
        assert value == b"inside"
        assert version == (await barrier.get_with_version("logical/a1/k"))[1]
        await view.transaction([TxnOp("k", b"next")], preconditions=[Precondition("k", version)])
        assert await barrier.get("logical/a1/k") == b"next"
        assert await barrier.get("k") == b"outside the view"

    run(scenario())


def test_a_view_refuses_a_precondition_key_that_climbs_out() -> None:
    async def scenario() -> None:
        physical = InmemBackend()
        view = StorageView(physical, "logical/a1/")
        with pytest.raises(InvalidRequest):
            await view.transaction([TxnOp("fine", b"1")], preconditions=[Precondition("../other/k", None)])
        assert await physical.list("") == []
        assert await view.get_with_version("folder/") == (None, None)

    run(scenario())
