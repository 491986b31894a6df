"""The SQLite backend's file: creation, modes, settings, lifecycle errors."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from strongroom.errors import StorageError
from strongroom.storage.sqlite import SQLiteBackend


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_wal_and_shared_memory_files_are_created_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "secret.db"
    previous = os.umask(0)  # the 0600 must come from the backend, not from a strict umask
    try:

        async def main() -> None:
            store = SQLiteBackend(str(db))
            await store.open()
            try:
                await store.put("k", b"v")
                for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                    assert mode_of(path) == 0o600, path.name
            finally:
                await store.close()

        asyncio.run(main())
    finally:
        os.umask(previous)


def test_file_is_in_wal_mode_with_the_entries_table(tmp_path: Path) -> None:
    db = tmp_path / "layout.db"

    async def main() -> None:
        store = SQLiteBackend(str(db))
        await store.open()
        await store.close()

    asyncio.run(main())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()
    conn.close()
    assert "WITHOUT ROWID" in sql
    assert "key TEXT PRIMARY KEY" in sql


def test_missing_directory_is_a_clear_storage_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    store = SQLiteBackend(str(missing / "x.db"))
    with pytest.raises(StorageError, match=r"directory .*no/such/dir does not exist"):
        asyncio.run(store.open())
    assert not missing.exists()


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not sqlite" * 1000)
    store = SQLiteBackend(str(db))
    with pytest.raises(StorageError, match="storage open failed: file is not a database"):
        asyncio.run(store.open())


def test_operations_on_a_backend_that_is_not_open_are_storage_errors(tmp_path: Path) -> None:
    store = SQLiteBackend(str(tmp_path / "closed.db"))

    async def main() -> None:
        with pytest.raises(StorageError, match="storage get failed: backend is not open"):
            await store.get("k")
        with pytest.raises(StorageError, match="storage put failed: backend is not open"):
            await store.put("k", b"v")
        await store.open()
        await store.close()
        await store.close()  # closing twice is harmless
        with pytest.raises(StorageError, match="storage list failed: backend is not open"):
            await store.list("")

    asyncio.run(main())


def test_opening_twice_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        store = SQLiteBackend(str(tmp_path / "twice.db"))
        await store.open()
        try:
            with pytest.raises(StorageError, match="already open"):
                await store.open()
        finally:
            await store.close()

    asyncio.run(main())


def test_synchronous_levels_that_lose_acknowledged_writes_are_refused(tmp_path: Path) -> None:
    for level in ("OFF", "0", "sometimes"):
        with pytest.raises(ValueError, match="synchronous must be one of"):
            SQLiteBackend(str(tmp_path / "x.db"), synchronous=level)
    SQLiteBackend(str(tmp_path / "x.db"), synchronous="extra")


def test_values_that_are_not_bytes_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    async def main() -> None:
        store = SQLiteBackend(str(tmp_path / "types.db"))
        await store.open()
        try:
            for bad in (5, "text", None):
                with pytest.raises(TypeError, match="storage values are bytes"):
                    await store.put("k", bad)  # type: ignore[arg-type]
            await store.put("k", bytearray(b"from a bytearray"))  # type: ignore[arg-type]
            assert await store.get("k") == b"from a bytearray"
            assert store.batched_writes == 1
        finally:
            await store.close()

    asyncio.run(main())


def test_open_given_up_while_another_process_locks_the_file_leaves_nothing_running(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # a fresh file in rollback mode: even reading the schema waits

    async def main() -> None:
        store = SQLiteBackend(str(db))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(store.open(), timeout=0.2)
        other.execute("ROLLBACK")
        other.close()
        # The abandoned writer finishes connecting, finds the stop request and exits.
        for _ in range(100):
            if not any(t.name == "strongroom-sqlite-writer" for t in threading.enumerate()):
                break
            await asyncio.sleep(0.02)
        assert not any(t.name == "strongroom-sqlite-writer" for t in threading.enumerate())
        await store.open()
        await store.put("k", b"v")
        assert await store.get("k") == b"v"
        await store.close()

    asyncio.run(main())


def test_open_waits_for_a_lock_that_sqlite_would_not_wait_for_by_itself(tmp_path: Path) -> None:
    # A new file in rollback mode with another writer's reserved lock: the WAL switch holds a read
    # lock and needs the write lock, so SQLite fails at once instead of calling the busy handler.
    # That is what two worker processes opening a fresh file together ran into.
    db = tmp_path / "fresh.db"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: other.execute("ROLLBACK"))

    async def main() -> None:
        store = SQLiteBackend(str(db))
        release.start()
        await store.open()
        try:
            await store.put("k", b"v")
            assert await store.get("k") == b"v"
        finally:
            await store.close()

    try:
        asyncio.run(main())
    finally:
        release.join()
        other.close()


def test_open_gives_up_after_the_busy_timeout_when_the_lock_is_never_released(tmp_path: Path) -> None:
    db = tmp_path / "held.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def main() -> None:
        store = SQLiteBackend(str(db), busy_timeout=0.2)
        with pytest.raises(StorageError, match="SQLITE_BUSY"):
            await store.open()

    try:
        asyncio.run(main())
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_repr_shows_the_path_and_no_data(tmp_path: Path) -> None:
    store = SQLiteBackend(str(tmp_path / "r.db"))
    assert repr(store) == f"SQLiteBackend({str(tmp_path / 'r.db')!r}, synchronous='FULL')"
