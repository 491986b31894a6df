"""Group commit in the SQLite backend: batching, acknowledgement after COMMIT, failure isolation."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from strongroom.errors import StorageConflict, StorageError
from strongroom.sdk.storage import Precondition, TxnOp
from strongroom.storage.sqlite import SQLiteBackend

CANARY = b"canary-secret-value-7f3a"


def run(
    path: Path, scenario: Callable[[SQLiteBackend], Awaitable[None]], *, busy_timeout: float = 10.0
) -> None:
    async def main() -> None:
        store = SQLiteBackend(str(path), busy_timeout=busy_timeout)
        await store.open()
        try:
            await scenario(store)
        finally:
            await store.close()

    asyncio.run(main())


@contextmanager
def write_lock_held(path: Path) -> Iterator[sqlite3.Connection]:
    """Hold the database's write lock from another connection, as another process would."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def refuse_keys_starting_with_poison(path: Path) -> None:
    """A trigger that makes one statement fail inside the writer's transaction."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON entries WHEN NEW.key GLOB 'poison*' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    conn.close()


def test_concurrent_writes_share_one_commit(tmp_path: Path) -> None:
    db = tmp_path / "batch.db"

    async def scenario(store: SQLiteBackend) -> None:
        with write_lock_held(db) as other:
            writes = [asyncio.create_task(store.put(f"k{i:02}", b"v")) for i in range(50)]
            done, _ = await asyncio.wait(writes, timeout=0.3)
            assert done == set(), "a write was acknowledged before any COMMIT could happen"
            other.execute("ROLLBACK")
            await asyncio.gather(*writes)
        # The writer took at most the first write alone before it blocked on the lock.
        assert store.batched_writes == 50
        assert store.commits <= 2
        assert len(await store.list("")) == 50

    run(db, scenario)


def test_sequential_writes_commit_one_by_one(tmp_path: Path) -> None:
    async def scenario(store: SQLiteBackend) -> None:
        for i in range(5):
            await store.put(f"k{i}", b"v")
        await store.delete("k0")
        await store.transaction([TxnOp("a", b"1"), TxnOp("b", b"2")])
        assert (store.commits, store.batched_writes) == (7, 7)

    run(tmp_path / "seq.db", scenario)


def test_failing_write_does_not_fail_the_rest_of_its_batch(tmp_path: Path) -> None:
    db = tmp_path / "isolate.db"

    async def scenario(store: SQLiteBackend) -> None:
        await store.put("existing", b"before")
        refuse_keys_starting_with_poison(db)
        with write_lock_held(db) as other:
            writes = [store.put(f"good/{i}", b"ok") for i in range(5)]
            writes.append(store.put("poison/put", CANARY))
            writes.append(
                store.transaction(
                    [TxnOp("good/txn", b"x"), TxnOp("existing", None), TxnOp("poison/txn", CANARY)]
                )
            )
            writes += [store.delete(f"good/{i}") for i in range(2)]
            tasks = [asyncio.create_task(write) for write in writes]
            await asyncio.sleep(0.05)
            other.execute("ROLLBACK")
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[:5] == [None] * 5
        assert results[7:] == [None, None]
        put_error, txn_error = results[5], results[6]
        assert isinstance(put_error, StorageError)
        assert isinstance(txn_error, StorageError)
        assert put_error.message.startswith("storage put failed")
        assert txn_error.message.startswith("storage transaction failed")
        for error in (put_error, txn_error):
            assert CANARY.decode() not in error.message
            assert "refused" not in error.message  # the database's own text is not passed on
        assert await store.list("good/") == ["2", "3", "4"]
        assert await store.get("good/txn") is None
        assert await store.get("existing") == b"before"
        assert await store.get("poison/put") is None
        # The writer is still serving.
        await store.put("after", b"fine")
        assert await store.get("after") == b"fine"

    run(db, scenario)


def test_writes_fail_with_storage_error_when_another_process_holds_the_lock_too_long(
    tmp_path: Path,
) -> None:
    db = tmp_path / "busy.db"

    async def scenario(store: SQLiteBackend) -> None:
        with write_lock_held(db):
            results = await asyncio.gather(store.put("a", b"1"), store.put("b", b"2"), return_exceptions=True)
        for result in results:
            assert isinstance(result, StorageError)
            assert "locked" in result.message
        await store.put("a", b"1")
        assert await store.get("a") == b"1"

    run(db, scenario, busy_timeout=0.2)


def test_close_commits_queued_writes_before_returning(tmp_path: Path) -> None:
    db = tmp_path / "close.db"

    async def main() -> None:
        store = SQLiteBackend(str(db))
        await store.open()
        writes = [asyncio.create_task(store.put(f"k{i}", b"v")) for i in range(30)]
        await asyncio.sleep(0)
        await store.close()
        assert all(write.done() for write in writes)
        assert store.batched_writes == 30

    asyncio.run(main())
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (30,)
    conn.close()


def test_cancelled_write_does_not_break_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "cancel.db"

    async def scenario(store: SQLiteBackend) -> None:
        with write_lock_held(db) as other:
            doomed = asyncio.create_task(store.put("cancelled", b"v"))
            await asyncio.sleep(0.05)
            doomed.cancel()
            other.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await doomed
        await store.put("next", b"v")
        assert await store.get("next") == b"v"

    run(db, scenario)


@pytest.mark.parametrize("with_failing_neighbour", [False, True])
def test_conditional_writes_in_one_batch_see_the_writes_queued_before_them(
    tmp_path: Path, with_failing_neighbour: bool
) -> None:
    # A failing neighbour rolls the batch back and replays each write alone: same outcome.
    db = tmp_path / "conditional.db"

    async def scenario(store: SQLiteBackend) -> None:
        await store.put("k", b"start")
        _, version = await store.get_with_version("k")
        refuse_keys_starting_with_poison(db)
        with write_lock_held(db) as other:
            writes = [
                store.transaction([TxnOp("k", b"first")], preconditions=[Precondition("k", version)]),
                store.transaction([TxnOp("k", b"second")], preconditions=[Precondition("k", version)]),
                store.transaction([TxnOp("late", b"x")], preconditions=[Precondition("k", b"first")]),
                store.put("plain", b"ok"),
            ]
            if with_failing_neighbour:
                writes.append(store.put("poison/put", CANARY))
            tasks = [asyncio.create_task(write) for write in writes]
            await asyncio.sleep(0.05)
            other.execute("ROLLBACK")
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[0] is None
        assert isinstance(results[1], StorageConflict)
        assert results[2:4] == [None, None]
        assert await store.get("k") == b"first"
        assert await store.get("late") == b"x"
        if with_failing_neighbour:
            assert isinstance(results[4], StorageError)
        else:
            assert (store.commits, store.batched_writes) == (2, 4)  # the seed put, then one batch

    run(db, scenario)
