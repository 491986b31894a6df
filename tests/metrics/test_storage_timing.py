"""The timed storage decorator: a faithful backend (the shared conformance suite) that times every operation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from strongroom.core.metrics.storage_timing import TimedStorage
from strongroom.errors import StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.testing import StorageConformance
from strongroom.storage.inmem import InmemBackend
from strongroom.storage.sqlite import SQLiteBackend
from tests.metrics.samples import local


class TestTimedInmemStorage(StorageConformance):
    shared_store = False

    def make_backend(self) -> StorageBackend:
        return TimedStorage(InmemBackend(), "inmem")


class TestTimedSQLiteStorage(StorageConformance):
    shared_store = True

    def make_backend(self) -> StorageBackend:
        return TimedStorage(SQLiteBackend(str(self.workdir / "store.db")), "sqlite")

    def make_second_instance(self) -> StorageBackend:
        return TimedStorage(SQLiteBackend(str(self.workdir / "store.db")), "sqlite")


def counts(backend: str) -> dict[str, float]:
    return {
        op: local("strongroom_storage_operation_seconds_count", backend=backend, operation=op)
        for op in ("get", "put", "delete", "list", "transaction")
    }


def test_every_operation_is_timed_under_its_own_label() -> None:
    async def scenario() -> None:
        storage = TimedStorage(InmemBackend(), "timing-test")
        await storage.open()
        before = counts("timing-test")
        await storage.put("a", b"1")
        await storage.get("a")
        await storage.get_with_version("a")
        await storage.list("")
        await storage.transaction([TxnOp("b", b"2")])
        await storage.delete("a")
        after = counts("timing-test")
        assert {op: after[op] - before[op] for op in after} == {
            "get": 2, "put": 1, "delete": 1, "list": 1, "transaction": 1,
        }
        await storage.close()

    asyncio.run(scenario())


class _Refusing(InmemBackend):
    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        raise StorageConflict()


def test_a_failing_operation_is_timed_and_its_error_passes_through_unchanged() -> None:
    async def scenario() -> None:
        storage = TimedStorage(_Refusing(), "timing-fail")
        before = counts("timing-fail")["transaction"]
        with pytest.raises(StorageConflict):
            await storage.transaction([TxnOp("k", b"v")])
        assert counts("timing-fail")["transaction"] == before + 1

    asyncio.run(scenario())


def test_capabilities_beyond_the_contract_stay_reachable_through_the_wrapper() -> None:
    inner = SQLiteBackend(":memory:")
    assert TimedStorage(inner, "sqlite").commits == inner.commits
