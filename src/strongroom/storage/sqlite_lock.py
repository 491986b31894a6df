"""A fair-enough lock between the writer threads of every process sharing one SQLite file.

SQLite's own busy handler waits for its write lock by sleeping for growing
intervals (up to 100 ms), so under contention one process can keep the lock
for a long burst while another's writes wait: measured p99 of 0.8 s for two
workers at 16 clients. Taking an ``flock`` on a side file around each batch
first keeps the wait short: the kernel grants it as soon as the holder's COMMIT
ends. The poll interval is short (at most 2 ms) and the wait is bounded by the
backend's busy timeout, so a stuck holder turns into a clear lock-timeout error
rather than a hang. The kernel drops the lock when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

_FIRST_PAUSE = 0.0002
_MAX_PAUSE = 0.002


class WriteLockTimeout(Exception):
    """Another process held the write lock for longer than the busy timeout."""

    sqlite_errorname = "SQLITE_BUSY"


class WriteLock:
    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._fd: int | None = None

    def open(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        fd = self._fd
        if fd is None:
            raise RuntimeError("write lock is not open")
        deadline = time.monotonic() + self._timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteLockTimeout("write lock busy") from None
                time.sleep(pause)
                pause = min(pause * 2, _MAX_PAUSE)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
