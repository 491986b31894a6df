"""WAL checkpoints off the write path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses the WAL size
threshold: that commit (and, through the cross-process write lock, every
other process's writes) waits while pages are copied into the database file
and it is fsynced, which measured as write p99 latencies of hundreds of
milliseconds. Each backend therefore turns automatic checkpoints off on its
writer connection and runs PASSIVE checkpoints from this thread instead: they
never block writers or readers, and copy whatever is not in use. Durability is
unchanged: a committed transaction is durable once its WAL frames are synced.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger("strongroom.storage")

CHECKPOINT_INTERVAL = 0.5


class Checkpointer(threading.Thread):
    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = CHECKPOINT_INTERVAL) -> None:
        super().__init__(name="strongroom-sqlite-checkpoint", daemon=True)
        self._connect = connect
        self._interval = interval
        self._stop_event = threading.Event()
        self.checkpoints = 0

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error:
            log.exception("WAL checkpointer could not open the database; relying on writers' checkpoints")
            return
        try:
            while not self._stop_event.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or I/O: the next round tries again
                    log.debug("WAL checkpoint skipped: %s", getattr(exc, "sqlite_errorname", type(exc).__name__))
        finally:
            conn.close()
