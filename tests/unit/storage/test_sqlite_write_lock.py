"""The cross-process write lock: exclusive, handed over in turn, and a clear error when a holder is stuck."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from strongroom.errors import StorageError
from strongroom.storage.sqlite import SQLiteBackend
from strongroom.storage.sqlite_lock import WriteLock


def test_a_second_holder_waits_until_the_first_releases(tmp_path: Path) -> None:
    first, second = WriteLock(str(tmp_path / "l")), WriteLock(str(tmp_path / "l"))
    first.open()
    second.open()
    order: list[str] = []
    with first.held():
        waiter = threading.Thread(target=lambda: _hold(second, order))
        waiter.start()
        time.sleep(0.05)
        order.append("first releases")
    waiter.join()
    assert order == ["first releases", "second holds"]
    assert stat.S_IMODE(os.stat(tmp_path / "l").st_mode) == 0o600


def _hold(lock: WriteLock, order: list[str]) -> None:
    with lock.held():
        order.append("second holds")


def test_a_stuck_writer_elsewhere_fails_writes_with_a_clear_storage_error(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    stuck = WriteLock(db + "-wlock")
    stuck.open()

    async def scenario() -> None:
        backend = SQLiteBackend(db, busy_timeout=0.1)
        await backend.open()
        try:
            with stuck.held(), pytest.raises(StorageError, match="timed out waiting for the database write lock"):
                await backend.put("k", b"v")
            await backend.put("k", b"v")
            assert await backend.get("k") == b"v"
        finally:
            await backend.close()

    asyncio.run(scenario())
