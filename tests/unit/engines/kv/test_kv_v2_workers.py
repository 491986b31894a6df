"""Two KV v2 mounts over one storage, as two worker processes: the worst interleavings, made on purpose.

Each mount (the harness's ``KV``, from the ``make_kv`` fixture) has its own backend, so its own per-secret locks, like a
separate worker. The storage runs ``another_worker`` right before the next
conditional transaction: after the first worker has read the secret and
before its commit, which is exactly where a cross-process race lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from strongroom.errors import CheckAndSetMismatch, StorageConflict
from strongroom.sdk.logical import Operation
from strongroom.sdk.storage import CONFLICT_ATTEMPTS, Precondition, TxnOp

READ, UPDATE, PATCH, DELETE = Operation.READ, Operation.UPDATE, Operation.PATCH, Operation.DELETE


class Workers:
    """Two mounts over one storage that can run the second one's request in the middle of the first's."""

    def __init__(self, make_kv: type[Any], storage: Any) -> None:
        self.storage = storage
        self.first = make_kv("2", storage=storage)
        self.second = make_kv("2", storage=storage)


@pytest.fixture
def workers(make_kv: type[Any], recording_storage: type[Any]) -> Workers:
    class InterleavingStorage(recording_storage):
        """Runs ``another_worker`` once, just before the next transaction that carries preconditions."""

        another_worker: Callable[[], Awaitable[Any]] | None = None

        async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
            if preconditions and self.another_worker is not None:
                interleave, self.another_worker = self.another_worker, None
                await interleave()
            await super().transaction(ops, preconditions)

    return Workers(make_kv, InterleavingStorage())


@pytest.fixture
def always_conflicting_kv(make_kv: type[Any], recording_storage: type[Any]) -> Any:
    class AlwaysConflicting(recording_storage):
        """Storage on which some other writer always got there first."""

        async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
            self.calls.append("transaction")
            if preconditions:
                raise StorageConflict()
            await super().transaction(ops, preconditions)

    return make_kv("2", storage=AlwaysConflicting())


def racing(workers: Workers, theirs: tuple[Operation, str, dict[str, Any]]) -> Callable[..., Any]:
    """A call through the first worker during which the second completes ``theirs`` at the worst moment."""
    first, second, storage = workers.first, workers.second, workers.storage

    def call(operation: Operation, path: str, data: dict[str, Any]) -> Any:
        async def main() -> Any:
            async def another_worker() -> Any:
                return await second.backend.handle(second.request(*theirs))

            storage.another_worker = another_worker
            answer = await first.backend.handle(first.request(operation, path, data))
            assert storage.another_worker is None, "the other worker never ran: nothing raced"
            return answer

        return asyncio.run(main())

    return call


def test_a_cas_write_that_loses_to_another_worker_answers_check_and_set_mismatch(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"v": "1"})
    call = racing(workers, (UPDATE, "data/app", {"data": {"by": "second"}, "options": {"cas": 1}}))
    with pytest.raises(CheckAndSetMismatch):
        call(UPDATE, "data/app", {"data": {"by": "first"}, "options": {"cas": 1}})
    assert first.ok(READ, "metadata/app")["current_version"] == 2
    assert first.ok(READ, "data/app")["data"] == {"by": "second"}


def test_creating_a_secret_in_two_workers_with_cas_zero_lets_one_win(workers: Workers) -> None:
    first = workers.first
    call = racing(workers, (UPDATE, "data/app", {"data": {"by": "second"}, "options": {"cas": 0}}))
    with pytest.raises(CheckAndSetMismatch):
        call(UPDATE, "data/app", {"data": {"by": "first"}, "options": {"cas": 0}})
    assert first.ok(READ, "metadata/app")["current_version"] == 1
    assert first.ok(READ, "data/app")["data"] == {"by": "second"}


def test_a_write_without_cas_that_loses_a_race_becomes_the_next_version(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"v": "1"})
    call = racing(workers, (UPDATE, "data/app", {"data": {"by": "second"}}))
    written = call(UPDATE, "data/app", {"data": {"by": "first"}})
    assert written.data["version"] == 3
    assert first.ok(READ, "data/app", {"version": "2"})["data"] == {"by": "second"}
    assert first.ok(READ, "data/app", {"version": "3"})["data"] == {"by": "first"}


def test_patches_in_two_workers_lose_no_update(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"base": "1"})
    call = racing(workers, (PATCH, "data/app", {"data": {"second": "2"}}))
    call(PATCH, "data/app", {"data": {"first": "1"}})
    assert first.ok(READ, "data/app")["data"] == {"base": "1", "first": "1", "second": "2"}
    assert first.ok(READ, "metadata/app")["current_version"] == 3


def test_a_metadata_delete_racing_a_write_leaves_no_version_behind(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"v": "1"})
    call = racing(workers, (UPDATE, "data/app", {"data": {"v": "2"}}))
    call(DELETE, "metadata/app", {})
    assert first.contents() == {}


def test_a_destroy_racing_a_soft_delete_keeps_both_changes(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"v": "1"})
    first.put("app", {"v": "2"})
    call = racing(workers, (UPDATE, "delete/app", {"versions": [2]}))
    call(UPDATE, "destroy/app", {"versions": [1]})
    versions = first.ok(READ, "metadata/app")["versions"]
    assert versions["1"]["destroyed"] is True
    assert versions["2"]["deletion_time"] != ""


def test_metadata_writes_in_two_workers_keep_both_settings(workers: Workers) -> None:
    first = workers.first
    first.put("app", {"v": "1"})
    call = racing(workers, (UPDATE, "metadata/app", {"max_versions": 3}))
    call(PATCH, "metadata/app", {"custom_metadata": {"owner": "ops"}})
    metadata = first.ok(READ, "metadata/app")
    assert metadata["max_versions"] == 3
    assert metadata["custom_metadata"] == {"owner": "ops"}


def test_config_writes_in_two_workers_keep_both_settings(workers: Workers) -> None:
    first = workers.first
    call = racing(workers, (UPDATE, "config", {"cas_required": True}))
    call(UPDATE, "config", {"max_versions": 4})
    assert first.ok(READ, "config") == {"cas_required": True, "delete_version_after": "0s", "max_versions": 4}


def test_a_write_that_keeps_conflicting_gives_up_after_bounded_attempts(always_conflicting_kv: Any) -> None:
    kv = always_conflicting_kv
    with pytest.raises(StorageConflict) as raised:
        kv.put("app", {"v": "1"})
    assert raised.value.status == 500
    assert kv.storage.calls == ["transaction"] * CONFLICT_ATTEMPTS
    assert kv.contents() == {}
