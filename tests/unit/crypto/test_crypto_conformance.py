"""The barrier and prefix views keep the storage contract: they run the shared conformance suite."""

from __future__ import annotations

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.inmem import InmemBackend

ROOT_KEY = bytes(range(32))


class UnsealingBarrier(Barrier):
    """A barrier that owns its physical store and unseals itself on open, as the suite expects."""

    async def open(self) -> None:
        await self.physical.open()
        await self.initialize(ROOT_KEY)
        await self.unseal(ROOT_KEY)

    async def close(self) -> None:
        await self.physical.close()


class OpeningView(StorageView):
    """A view that opens and closes what it views, as the suite expects of a backend."""

    async def open(self) -> None:
        await self.backend.open()

    async def close(self) -> None:
        await self.backend.close()


class TestBarrierStorage(StorageConformance):
    shared_store = False  # each barrier gets its own in-memory store

    def make_backend(self) -> StorageBackend:
        return UnsealingBarrier(InmemBackend())


class TestViewOverBarrier(StorageConformance):
    shared_store = False

    def make_backend(self) -> StorageBackend:
        return OpeningView(UnsealingBarrier(InmemBackend()), "logical/3f2a/")


class TestViewOverPhysicalStorage(StorageConformance):
    shared_store = False

    def make_backend(self) -> StorageBackend:
        return OpeningView(InmemBackend(), "sys/token/")
