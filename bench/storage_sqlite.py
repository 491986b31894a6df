"""Durable SQLite writes: one commit per write versus group commit at 16 concurrent writers.

    .venv/bin/python bench/storage_sqlite.py [--dir DIR] [--seconds S] [--writers N]

DIR must be on the disk you want to measure (the default is a fresh directory
under the current one, not /tmp, which may be a RAM file system). Every variant
uses WAL with synchronous=FULL and 1 KiB values, so every acknowledged write is
fsynced. Variants:

* ``single``: a bare sqlite3 connection, INSERT + COMMIT per write, one writer.
* ``backend-1``: SQLiteBackend.put awaited one after another (no batching possible).
* ``backend-N``: SQLiteBackend.put from N concurrent coroutines (the group-commit thread).
* ``looptask-N``: the alternative design, a group-commit asyncio task that runs
  each batch's COMMIT on the event loop thread; kept here only for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from strongroom.storage.sqlite import SQLiteBackend

VALUE = os.urandom(1024)
SCHEMA = "CREATE TABLE IF NOT EXISTS entries(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
PUT = "INSERT INTO entries(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(SCHEMA)
    return conn


def report(name: str, latencies: list[float], elapsed: float, extra: str = "") -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1e3
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
    mean = statistics.fmean(ordered) * 1e3
    rate = len(ordered) / elapsed
    print(
        f"{name:<14} {len(ordered):>7} writes  {rate:>8.0f} writes/s  "
        f"latency mean {mean:.3f} ms  p50 {p50:.3f} ms  p99 {p99:.3f} ms{extra}"
    )


def bench_single(path: Path, seconds: float) -> None:
    conn = connect(path)
    latencies: list[float] = []
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds:
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(PUT, (f"single/{n}", VALUE))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - began)
        n += 1
    report("single", latencies, time.perf_counter() - start)
    conn.close()


Put = Callable[[str, bytes], Awaitable[None]]


async def drive(put: Put, writers: int, seconds: float, tag: str) -> tuple[list[float], float]:
    """``writers`` closed-loop coroutines, each awaiting one put after another."""
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def writer(index: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await put(f"{tag}/{index}/{n}", VALUE)
            latencies.append(time.perf_counter() - began)
            n += 1

    await asyncio.gather(*(writer(i) for i in range(writers)))
    return latencies, time.perf_counter() - start


async def bench_backend(path: Path, writers: int, seconds: float) -> None:
    store = SQLiteBackend(str(path))
    await store.open()
    try:
        latencies, elapsed = await drive(store.put, writers, seconds, f"backend{writers}")
        per_commit = store.batched_writes / max(store.commits, 1)
        report(f"backend-{writers}", latencies, elapsed, f"  ({per_commit:.1f} writes/commit)")
    finally:
        await store.close()


class LoopTaskCommitter:
    """The rejected design: a task on the event loop commits each batch synchronously."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._queue: asyncio.Queue[tuple[str, bytes, asyncio.Future[None]]] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())
        self.commits = 0
        self.writes = 0

    async def put(self, key: str, value: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((key, value, future))
        await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._conn.execute("BEGIN IMMEDIATE")
            for key, value, _ in batch:
                self._conn.execute(PUT, (key, value))
            self._conn.execute("COMMIT")  # blocks the loop for the fsync
            self.commits += 1
            self.writes += len(batch)
            for _, _, future in batch:
                future.set_result(None)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._conn.close()


async def bench_looptask(path: Path, writers: int, seconds: float) -> None:
    committer = LoopTaskCommitter(path)
    try:
        latencies, elapsed = await drive(committer.put, writers, seconds, f"loop{writers}")
        per_commit = committer.writes / max(committer.commits, 1)
        report(f"looptask-{writers}", latencies, elapsed, f"  ({per_commit:.1f} writes/commit)")
    finally:
        await committer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="directory on the disk to measure")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each variant")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers for the batched variants")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir or Path.cwd(), prefix="bench-sqlite-") as workdir:
        base = Path(workdir)
        print(f"SQLite {sqlite3.sqlite_version}, WAL, synchronous=FULL, 1 KiB values, in {base}")
        bench_single(base / "single.db", args.seconds)
        asyncio.run(bench_backend(base / "backend1.db", 1, args.seconds))
        asyncio.run(bench_backend(base / "backendN.db", args.writers, args.seconds))
        asyncio.run(bench_looptask(base / "loop.db", args.writers, args.seconds))


if __name__ == "__main__":
    main()
