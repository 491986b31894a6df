"""Group commit for the SQLite backend: one writer thread, one transaction per batch.

Coroutines hand their writes to :class:`GroupCommitWriter` and await a future.
The writer thread owns its own connection. It takes *everything* that is
queued, applies it inside one ``BEGIN IMMEDIATE ... COMMIT`` and only then
resolves the callers' futures, so an acknowledged write is always inside a
transaction whose COMMIT has returned (and, with ``synchronous=FULL``, whose
WAL frames have been fsynced).

Batching happens by itself: while one COMMIT waits for its fsync (the
sqlite3 module releases the GIL), the event loop keeps running and queues
more writes, which go into the next batch. No timer, no added latency.

Failure isolation: if anything in a batch fails (a statement error, a full
disk at COMMIT), the batch is rolled back and every write in it is retried
alone in its own transaction, so each caller gets its own answer and one bad
write cannot fail its neighbours. The exception is a lock timeout
(``SQLITE_BUSY`` after ``busy_timeout``): retrying would wait the timeout again
per write, so the whole batch fails at once.

Preconditions: a write may carry checks (key, expected value). They are read
inside the batch's transaction, after the writes queued before it and while
this connection holds the database's write lock, so no other process can
commit in between. A write whose check fails applies none of its ops and gets
:class:`StorageConflict`; the rest of the batch commits. Checks run before any
op of their write, so a refused write leaves nothing to roll back (no
savepoint needed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from strongroom.errors import InternalError, StorageConflict, StorageError
from strongroom.sdk.storage import holds
from strongroom.storage.sqlite_lock import WriteLock

#: A write as the writer applies it: ``(key, value)``, value ``None`` meaning delete.
Op = tuple[str, bytes | None]
#: A precondition as the writer checks it: ``(key, expected value)``, ``None`` meaning absent.
Check = tuple[str, bytes | None]

_PUT_SQL = (
    "INSERT INTO entries(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
_DELETE_SQL = "DELETE FROM entries WHERE key = ?"
_CHECK_SQL = "SELECT value FROM entries WHERE key = ?"

# Words for the result codes an operator may meet; anything else shows its SQLite name.
_REASONS = {
    "SQLITE_FULL": "database or disk is full",
    "SQLITE_BUSY": "database is locked by another writer (busy timeout exceeded)",
    "SQLITE_READONLY": "database is read-only",
    "SQLITE_CORRUPT": "database file is corrupt",
    "SQLITE_CANTOPEN": "cannot open database file",
    "SQLITE_NOTADB": "file is not a database",
    "SQLITE_PERM": "permission denied",
}


def storage_error(operation: str, exc: BaseException) -> StorageError:
    """A :class:`StorageError` naming ``operation`` and the cause's kind, never a key's value.

    Only the SQLite result-code name (or the exception class) is used, not the
    exception text, so nothing from the data can leak into the message.
    """
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    reason = _REASONS.get(name) or ("I/O error" if name.startswith("SQLITE_IOERR") else None)
    detail = f"{reason} ({name})" if reason else name
    error = StorageError(f"storage {operation} failed: {detail}")
    error.__cause__ = exc
    return error


def is_lock_timeout(exc: BaseException) -> bool:
    """True for SQLITE_BUSY and SQLITE_LOCKED (and their extended codes)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


@dataclass(slots=True)
class WriteRequest:
    """One acknowledged-when-committed write: the ops of one put, delete or transaction call."""

    operation: str  # "put", "delete" or "transaction"; used in error messages
    ops: Sequence[Op]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    checks: Sequence[Check] = ()
    error: InternalError | None = field(default=None)  # StorageError or StorageConflict
    answered: bool = field(default=False)  # set by the writer once its outcome is decided
    conflict: bool = field(default=False)  # a check failed in the latest attempt: none of its ops ran


@dataclass(slots=True)
class WriteStats:
    """Counters for metrics and tests, written only by the writer thread."""

    commits: int = 0  # successful COMMITs
    batched_writes: int = 0  # write calls acknowledged by those COMMITs (refused conditional writes excluded)


class _Stop:
    """Queued by :meth:`GroupCommitWriter.stop`; everything queued before it is committed first."""

    def __init__(self) -> None:
        self.done: concurrent.futures.Future[None] = concurrent.futures.Future()


class GroupCommitWriter(threading.Thread):
    """The single writer of one backend instance (one per process).

    ``connect`` runs in the thread and returns a connection in autocommit
    mode (``isolation_level=None``) with the schema in place. Failures of
    ``connect`` are reported through :attr:`ready`.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], stats: WriteStats, lock: WriteLock | None = None
    ) -> None:
        # Daemon: interpreter exit must not hang on an unclosed backend. Writes
        # acknowledged before exit are committed already, so nothing is lost.
        super().__init__(name="strongroom-sqlite-writer", daemon=True)
        self._connect = connect
        self._stats = stats
        self._lock = lock
        self._queue: queue.SimpleQueue[WriteRequest | _Stop] = queue.SimpleQueue()
        self.ready: concurrent.futures.Future[None] = concurrent.futures.Future()

    def submit(self, request: WriteRequest) -> None:
        """Queue a write; its future resolves once the COMMIT containing it returned."""
        self._queue.put(request)

    def stop(self) -> concurrent.futures.Future[None]:
        """Commit everything queued so far, close the connection, end the thread."""
        stop = _Stop()
        self._queue.put(stop)
        return stop.done

    def run(self) -> None:
        # Once running, the ready future can no longer be cancelled by its waiter;
        # if it already was, open() gave up before the thread started.
        if not self.ready.set_running_or_notify_cancel():
            return
        try:
            conn = self._connect()
        except Exception as exc:  # reported to open(), which raises it as a StorageError
            self.ready.set_exception(exc)
            return
        self.ready.set_result(None)
        stop: _Stop | None = None
        try:
            while stop is None:
                batch: list[WriteRequest] = []
                item = self._queue.get()
                while True:
                    if isinstance(item, _Stop):
                        stop = item  # close() refuses new writes first, so nothing follows it
                        break
                    batch.append(item)
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    try:
                        self._commit_batch(conn, batch)
                    except Exception as exc:
                        # A last net (e.g. ROLLBACK itself failed): the thread must
                        # survive, or every later write would wait forever.
                        self._finish(batch, exc)
        finally:
            conn.close()
            if stop is not None:
                stop.done.set_result(None)

    def _commit_batch(self, conn: sqlite3.Connection, batch: list[WriteRequest]) -> None:
        if self._lock is None:
            self._commit_batch_locked(conn, batch)
            return
        with self._lock.held():
            self._commit_batch_locked(conn, batch)

    def _commit_batch_locked(self, conn: sqlite3.Connection, batch: list[WriteRequest]) -> None:
        try:
            _rollback(conn)  # a no-op unless an earlier failed ROLLBACK left a transaction open
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            self._finish(batch, exc)
            return
        try:
            for request in batch:
                request.conflict = not _checks_hold(conn, request.checks)
                if not request.conflict:
                    _apply(conn, request.ops)
            conn.execute("COMMIT")
        except Exception as exc:
            _rollback(conn)
            if len(batch) == 1 or is_lock_timeout(exc):
                self._finish(batch, exc)
            else:
                for request in batch:
                    self._commit_batch_locked(conn, [request])
            return
        self._stats.commits += 1
        self._stats.batched_writes += sum(not request.conflict for request in batch)
        self._finish(batch, None)

    def _finish(self, batch: list[WriteRequest], exc: BaseException | None) -> None:
        """Resolve the callers' futures on their own loops (one wake-up per loop)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[WriteRequest]] = {}
        for request in batch:
            if request.answered:
                continue
            request.answered = True
            if exc is not None:
                request.error = storage_error(request.operation, exc)
            elif request.conflict:
                request.error = StorageConflict()
            by_loop.setdefault(request.loop, []).append(request)
        for loop, requests in by_loop.items():
            # RuntimeError: that loop is closed, nobody is waiting any more; the write stands.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, requests)


def _apply(conn: sqlite3.Connection, ops: Sequence[Op]) -> None:
    for key, value in ops:
        if value is None:
            conn.execute(_DELETE_SQL, (key,))
        else:
            conn.execute(_PUT_SQL, (key, value))


def _checks_hold(conn: sqlite3.Connection, checks: Sequence[Check]) -> bool:
    for key, expected in checks:
        row = conn.execute(_CHECK_SQL, (key,)).fetchone()
        if not holds(None if row is None else row[0], expected):
            return False
    return True


def _rollback(conn: sqlite3.Connection) -> None:
    # Some errors (SQLITE_FULL, some I/O errors) already roll the whole transaction back.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _settle(requests: list[WriteRequest]) -> None:
    for request in requests:
        if request.future.done():
            continue  # the caller was cancelled; the write itself stands
        if request.error is None:
            request.future.set_result(None)
        else:
            request.future.set_exception(request.error)
