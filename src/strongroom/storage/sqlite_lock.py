"""A fair lock between the writer threads of every process sharing one SQLite file.

SQLite's own busy handler waits for its write lock by sleeping for growing
intervals (up to 100 ms), so under contention one process keeps re-taking the
lock while another's writes wait: measured write p99 of 0.8 s for two workers
at 16 clients. Taking a blocking ``flock`` on a side file around each batch
first hands the lock over as soon as the holder's COMMIT ends, in arrival
order (measured: p99 3 ms, max 17 ms, even throughput between processes; a
polling variant measured max 300 ms and was unfair). The kernel drops the lock
when its holder dies.

A blocking ``flock`` has no timeout: a holder that is alive but stuck (frozen
by SIGSTOP, a hung disk) makes the other writer threads wait. Callers are not
left hanging: :meth:`SQLiteBackend` bounds how long a request waits for its
write (see ``_write``) and reports a clear error; the queued write itself may
still commit once the holder moves on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator


class WriteLock:
    def __init__(self, path: str) -> None:
        self._path = path
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
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
