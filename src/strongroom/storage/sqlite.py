"""SQLite storage: the default backend. One file, shared safely by several processes.

Design (see docs/storage.md for the reasoning and measurements):

* WAL journal mode with ``synchronous=FULL``: a write is acknowledged only
  after the COMMIT containing it returned, and in that mode COMMIT fsyncs the
  WAL, so acknowledged writes survive ``kill -9`` and power loss.
* Writes go through one group-commit writer thread per process
  (:mod:`strongroom.storage.sqlite_writer`); concurrent writers share fsyncs.
  A transaction's preconditions are checked by that thread inside the
  transaction that applies it, under the file's write lock, so they hold
  across processes.
* Reads run directly on the event loop thread over a second, read-only
  connection in autocommit mode. Every read is its own short read
  transaction, so it sees everything any process committed before it began.
* Several processes may open the same file: SQLite's file locks serialise
  their writers and ``busy_timeout`` makes them wait instead of failing.

The file is created with mode 0600 (its WAL and shared-memory files inherit
that mode from SQLite); an existing file keeps its mode. Its directory must
exist. Connections are made in :meth:`SQLiteBackend.open`, so open the
backend in each process after fork, never before.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from strongroom.errors import StorageError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, list_children
from strongroom.storage.sqlite_checkpoint import Checkpointer
from strongroom.storage.sqlite_lock import WriteLock
from strongroom.storage.sqlite_writer import (
    Check,
    GroupCommitWriter,
    Op,
    WriteRequest,
    WriteStats,
    is_lock_timeout,
    storage_error,
)

#: ``synchronous`` levels that keep the durability promise, plus NORMAL, which
#: survives a killed process but may lose the last commits on power loss.
SYNCHRONOUS_LEVELS = ("EXTRA", "FULL", "NORMAL")

_SCHEMA = "CREATE TABLE IF NOT EXISTS entries(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
_GET_SQL = "SELECT value FROM entries WHERE key = ?"
_RANGE_SQL = "SELECT key FROM entries WHERE key >= ? AND key < ?"
_FROM_SQL = "SELECT key FROM entries WHERE key >= ?"

# Module level: inside the class, ``list`` names the method.
_Rows = list[tuple[object, ...]]
_T = TypeVar("_T")

_MAX_CHAR = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)  # not encodable in UTF-8, so no stored key holds one


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix``.

    ``None`` means there is no such bound (``prefix`` is empty or all U+10FFFF).
    SQLite compares TEXT as UTF-8 bytes, and UTF-8 byte order is code-point
    order, so ``prefix <= key < bound`` selects exactly the keys starting with
    ``prefix``. Incrementing the last character skips the surrogate block.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < _MAX_CHAR:
            following = last + 1
            if following in _SURROGATES:
                following = _SURROGATES.stop
            return "".join(chars) + chr(following)
    return None


class SQLiteBackend(StorageBackend):
    """Storage in one SQLite file at ``path``.

    ``synchronous`` is one of :data:`SYNCHRONOUS_LEVELS` (``FULL`` keeps the
    storage contract's durability promise). ``busy_timeout`` (seconds) is how
    long a write waits for another process holding the write lock before it
    fails with a :class:`StorageError`.

    Every failure surfaces as :class:`StorageError` naming the operation.
    A write whose awaiting coroutine is cancelled may still be committed.
    """

    def __init__(self, path: str, *, synchronous: str = "FULL", busy_timeout: float = 10.0) -> None:
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
        if busy_timeout <= 0:
            raise ValueError("busy_timeout must be positive")
        self._path = path
        self._lock: WriteLock | None = None
        self._checkpointer: Checkpointer | None = None
        self._synchronous = level
        self._busy_timeout = busy_timeout
        # Generous: a healthy holder keeps the lock for one commit (milliseconds).
        self._write_timeout = 3 * busy_timeout
        self._stats = WriteStats()
        self._writer: GroupCommitWriter | None = None
        self._reader: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteBackend({self._path!r}, synchronous={self._synchronous!r})"

    @property
    def commits(self) -> int:
        """COMMITs the writer of this instance performed (for metrics)."""
        return self._stats.commits

    @property
    def batched_writes(self) -> int:
        """put/delete/transaction calls acknowledged by those COMMITs."""
        return self._stats.batched_writes

    async def open(self) -> None:
        if self._writer is not None:
            raise StorageError("storage open failed: backend is already open")
        _create_file(self._path)
        lock = WriteLock(self._path + "-wlock")
        try:
            lock.open()
        except OSError as exc:
            raise storage_error("open", exc) from exc
        self._lock = lock
        writer = GroupCommitWriter(self._connect_writer, self._stats, lock)
        checkpointer = Checkpointer(lambda: self._connect(query_only=False))
        writer.start()
        try:
            await asyncio.wrap_future(writer.ready)
        except BaseException as exc:
            # Either connecting failed (the thread has ended) or open() was
            # cancelled (the thread may hold a connection): stop covers both.
            writer.stop()
            if isinstance(exc, StorageError) or not isinstance(exc, Exception):
                raise
            raise storage_error("open", exc) from exc
        try:
            self._reader = self._connect(query_only=True)
        except Exception as exc:
            await asyncio.wrap_future(writer.stop())
            writer.join()
            raise storage_error("open", exc) from exc
        self._writer = writer
        checkpointer.start()
        self._checkpointer = checkpointer

    async def close(self) -> None:
        """Wait for every queued write to commit, then release both connections. Idempotent."""
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if writer is None or reader is None:
            return
        checkpointer, self._checkpointer = self._checkpointer, None
        try:
            if checkpointer is not None:
                await asyncio.to_thread(checkpointer.stop)
            await asyncio.wrap_future(writer.stop())
            writer.join()
        finally:
            reader.close()
            if self._lock is not None:
                self._lock.close()
                self._lock = None

    async def get(self, key: str) -> bytes | None:
        rows = self._read("get", _GET_SQL, (key,))
        if not rows:
            return None
        return cast(bytes, rows[0][0])  # the schema stores BLOBs only

    async def list(self, prefix: str) -> list[str]:
        bound = prefix_upper_bound(prefix)
        if bound is None:
            rows = self._read("list", _FROM_SQL, (prefix,))
        else:
            rows = self._read("list", _RANGE_SQL, (prefix, bound))
        return list_children([cast(str, row[0]) for row in rows], prefix)

    async def put(self, key: str, value: bytes) -> None:
        await self._write("put", [(_checked_key(key), _checked_value(value))])

    async def delete(self, key: str) -> None:
        await self._write("delete", [(_checked_key(key), None)])

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        """Atomic ops; preconditions are checked by the writer inside the same SQLite transaction."""
        # Convert everything before queueing: a bad op fails the call before any op is applied.
        prepared: list[Op] = [
            (_checked_key(op.key), None if op.value is None else _checked_value(op.value)) for op in ops
        ]
        checks: list[Check] = [
            (_checked_key(pre.key), None if pre.expected is None else _checked_value(pre.expected))
            for pre in preconditions
        ]
        if prepared or checks:
            await self._write("transaction", prepared, checks)

    def revision(self) -> int | None:
        """SQLite's ``data_version`` on the read connection: it moves whenever any other
        connection (this process's writer thread included) commits."""
        if self._reader is None:
            return None
        try:
            row = self._reader.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row else None

    def _read(self, operation: str, sql: str, params: tuple[str, ...]) -> _Rows:
        if self._reader is None:
            raise StorageError(f"storage {operation} failed: backend is not open")
        try:
            # fetchall steps the statement to its end, which ends the implicit
            # read transaction: no snapshot is held between reads.
            rows: _Rows = self._reader.execute(sql, params).fetchall()
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            raise storage_error(operation, exc) from exc
        return rows

    async def _write(self, operation: str, ops: Sequence[Op], checks: Sequence[Check] = ()) -> None:
        writer = self._writer
        if writer is None:
            raise StorageError(f"storage {operation} failed: backend is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        writer.submit(WriteRequest(operation, ops, loop, future, checks))
        # Bounded: a writer in another process that is alive but stuck holds the write
        # lock (see sqlite_lock). The write stays queued and may still commit later: the
        # writer skips a future that is already done (timed out or cancelled). A timer on
        # the future itself costs a third of wait_for(shield(...)) on every write.
        timer = loop.call_later(self._write_timeout, _expire, future)
        try:
            await future
        except _WriteTimedOut:
            raise StorageError(
                f"storage {operation} failed: timed out waiting for the database write lock "
                "(another process holds it); the write may still be applied"
            ) from None
        finally:
            timer.cancel()

    def _connect_writer(self) -> sqlite3.Connection:
        conn = self._connect(query_only=False)
        try:
            mode = _retry_while_locked(lambda: _prepare_file(conn), self._busy_timeout)
        except BaseException:
            conn.close()
            raise
        if mode.lower() != "wal":
            conn.close()
            raise StorageError("storage open failed: the file system does not support WAL mode")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer thread does it, off the write path
        return conn

    def _connect(self, *, query_only: bool) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN; the writer issues its own
        # BEGIN IMMEDIATE, and reads run as single-statement transactions.
        # check_same_thread=False lets close() release the reader from any thread.
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            if query_only:
                conn.execute("PRAGMA query_only=ON")
        except BaseException:
            conn.close()
            raise
        return conn


def _prepare_file(conn: sqlite3.Connection) -> str:
    """Switch the file to WAL and create the table; returns the journal mode now in force."""
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchall()[0][0]
    conn.execute(_SCHEMA)
    return str(mode)


def _retry_while_locked(step: Callable[[], _T], timeout: float) -> _T:
    """Run ``step``, retrying while another connection holds a lock, for up to ``timeout`` seconds.

    ``busy_timeout`` does not cover everything: SQLite skips the busy handler
    and fails at once with SQLITE_BUSY when waiting could deadlock, which is
    what ``PRAGMA journal_mode=WAL`` on a new file meets when another process
    is setting up the same file (each holds a read lock and needs the write
    lock). Worker processes opening a fresh file together did exactly that and
    one of them died at startup. Backing off and retrying lets the other one
    finish. Runs on the writer thread, so sleeping blocks no event loop.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not is_lock_timeout(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _checked_key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError("storage keys are str")
    return key


def _checked_value(value: bytes) -> bytes:
    # A copy of mutable buffers: the writer reads the value later, on its own thread.
    # Anything else (an int would make bytes(n) zero bytes) is a caller bug.
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError("storage values are bytes")


def _create_file(path: str) -> None:
    """Create the database file with mode 0600 if it does not exist, durably."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise StorageError(f"storage open failed: directory {directory} does not exist")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"storage open failed: cannot create {path} ({exc.strerror})") from exc
    os.close(fd)
    # The new directory entry must reach the disk too, or power loss could drop the file.
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _WriteTimedOut(Exception):
    """Set on a write's future when the write timeout passes before its COMMIT."""


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(_WriteTimedOut())
