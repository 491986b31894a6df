"""A full disk surfaces as StorageError and leaves earlier data intact.

The database lives on a 1 MiB tmpfs mounted for the test (tests run as root).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.errors import StorageError
from strongroom.storage.sqlite import SQLiteBackend

CHUNK = 64 * 1024


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def early_value(i: int) -> bytes:
    return bytes([i]) * 1000


def test_full_disk_is_a_storage_error_and_earlier_data_survives(tiny_fs: Path) -> None:
    db = tiny_fs / "full.db"
    canary = b"canary-never-in-messages-" * 100

    async def fill() -> list[str]:
        store = SQLiteBackend(str(db))
        await store.open()
        try:
            for i in range(10):
                await store.put(f"early/{i}", early_value(i))
            stored: list[str] = []
            error: StorageError | None = None
            for i in range(64):  # 4 MiB: more than the file system holds
                try:
                    await store.put(f"big/{i}", canary + os.urandom(CHUNK))
                except StorageError as exc:
                    error = exc
                    break
                stored.append(f"big/{i}")
            assert error is not None, "the writes never filled the file system"
            assert error.message == "storage put failed: database or disk is full (SQLITE_FULL)"
            assert "canary" not in str(error)
            # Batched writes hitting the full disk each get their own answer.
            results = await asyncio.gather(
                *(store.put(f"more/{i}", os.urandom(CHUNK)) for i in range(8)), return_exceptions=True
            )
            assert any(isinstance(result, StorageError) for result in results)
            for i in range(10):
                assert await store.get(f"early/{i}") == early_value(i)
            return stored
        finally:
            await store.close()

    async def reopen(stored: list[str]) -> None:
        store = SQLiteBackend(str(db))
        await store.open()
        try:
            for i in range(10):
                assert await store.get(f"early/{i}") == early_value(i)
            assert await store.list("big/") == sorted(key.removeprefix("big/") for key in stored)
        finally:
            await store.close()

    stored = asyncio.run(fill())
    assert stored, "the file system filled before a single large write"
    asyncio.run(reopen(stored))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
