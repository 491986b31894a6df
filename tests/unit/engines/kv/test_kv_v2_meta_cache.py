"""KV v2: decoded metadata is reused while the store is unchanged, and never outlives a change.

Two mounts over one store stand for two worker processes; with SQLite they are two
backends (two connections) on one file, as two workers have.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from strongroom.engines.kv import KVBackend
from strongroom.errors import NotFound
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.sqlite import SQLiteBackend

READ, UPDATE, DELETE = Operation.READ, Operation.UPDATE, Operation.DELETE


@pytest.fixture
def counting(recording_storage: type[Any]) -> type[Any]:
    class CountingStorage(recording_storage):
        """Counts reads per key; ``revision_known=False`` makes it a store without a revision."""

        def __init__(self) -> None:
            super().__init__()
            self.reads: dict[str, int] = {}
            self.revision_known = True

        async def get(self, key: str) -> bytes | None:
            self.reads[key] = self.reads.get(key, 0) + 1
            return await super().get(key)

        def revision(self) -> int | None:
            return super().revision() if self.revision_known else None

    return CountingStorage


def test_repeated_reads_decode_the_metadata_once(make_kv: type[Any], counting: type[Any]) -> None:
    storage = counting()
    kv = make_kv("2", storage=storage)
    kv.put("app", {"v": "1"})
    storage.reads.clear()
    for _ in range(3):
        assert kv.ok(READ, "data/app")["data"] == {"v": "1"}
    assert storage.reads["meta/app"] == 1
    assert storage.reads[next(key for key in storage.reads if key.startswith("ver/"))] == 3  # data: every time


def test_a_store_without_revision_is_read_every_time(make_kv: type[Any], counting: type[Any]) -> None:
    storage = counting()
    storage.revision_known = False
    kv = make_kv("2", storage=storage)
    kv.put("app", {"v": "1"})
    storage.reads.clear()
    for _ in range(3):
        kv.ok(READ, "data/app")
    assert storage.reads["meta/app"] == 3


def test_a_write_through_another_mount_is_read_at_once(make_kv: type[Any], counting: type[Any]) -> None:
    storage = counting()
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    first.put("app", {"v": "1"})
    assert first.ok(READ, "data/app")["metadata"]["version"] == 1
    second.put("app", {"v": "2"})
    assert first.ok(READ, "data/app")["data"] == {"v": "2"}
    second.call(UPDATE, "metadata/app", {"custom_metadata": {"owner": "ops"}})
    assert first.ok(READ, "metadata/app")["custom_metadata"] == {"owner": "ops"}
    second.call(DELETE, "metadata/app")
    with pytest.raises(NotFound):
        first.get("app")


def test_a_missing_secret_created_elsewhere_is_found_at_once(make_kv: type[Any], counting: type[Any]) -> None:
    storage = counting()
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    with pytest.raises(NotFound):
        first.get("app")  # "no such secret" is cached too
    second.put("app", {"v": "1"})
    assert first.ok(READ, "data/app")["data"] == {"v": "1"}


def test_changing_an_answer_does_not_change_the_kept_metadata(make_kv: type[Any], counting: type[Any]) -> None:
    kv = make_kv("2", storage=counting())
    kv.call(UPDATE, "metadata/app", {"custom_metadata": {"owner": "ops"}})
    kv.put("app", {"v": "1"})
    answer = kv.ok(READ, "data/app")
    answer["metadata"]["custom_metadata"]["owner"] = "mallory"
    kv.ok(READ, "metadata/app")["custom_metadata"]["owner"] = "mallory"
    assert kv.ok(READ, "data/app")["metadata"]["custom_metadata"] == {"owner": "ops"}
    assert kv.ok(READ, "metadata/app")["custom_metadata"] == {"owner": "ops"}


def _mount(storage: SQLiteBackend) -> KVBackend:
    clock = ManualClock(start=1_800_000_000.0)
    return KVBackend(
        BackendContext(
            storage=storage,
            system=SystemView(clock=clock),
            mount_point="secret/",
            mount_accessor="kv_0001",
            options={"version": "2"},
        )
    )


async def _call(backend: KVBackend, operation: Operation, path: str, data: dict[str, Any] | None = None) -> Response:
    req = Request(operation=operation, path=path, data=dict(data or {}), storage=backend.ctx.storage)
    answer = await backend.handle(req)
    assert answer is not None
    return answer


def test_sqlite_a_commit_through_another_connection_is_read_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        one, two = SQLiteBackend(str(tmp_path / "kv.db")), SQLiteBackend(str(tmp_path / "kv.db"))
        await one.open()
        await two.open()
        try:
            first, second = _mount(one), _mount(two)
            await _call(first, UPDATE, "data/app", {"data": {"v": "1"}})
            for _ in range(2):  # the second read is served from the cache
                read = await _call(first, READ, "data/app")
                assert read.data is not None
                assert read.data["metadata"]["version"] == 1
            await _call(second, UPDATE, "data/app", {"data": {"v": "2"}})
            read = await _call(first, READ, "data/app")
            assert read.data is not None
            assert read.data["data"] == {"v": "2"}
            assert read.data["metadata"]["version"] == 2
            await second.handle(Request(operation=DELETE, path="metadata/app", storage=two))
            with pytest.raises(NotFound):
                await _call(first, READ, "data/app")
        finally:
            await one.close()
            await two.close()

    asyncio.run(main())
