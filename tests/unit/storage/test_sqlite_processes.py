"""SQLite backend across processes: acknowledged writes survive kill -9; processes share one file."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import IO

from strongroom.storage.sqlite import SQLiteBackend

CHILD = Path(__file__).with_name("sqlite_child.py")
KILL_ROUNDS = 6


def load_child() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sqlite_child", CHILD)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


child = load_child()


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expect_line(proc: subprocess.Popen[str], expected: str) -> None:
    """Read one line from the child; on anything else, stop it and show what it wrote to stderr."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    line = proc.stdout.readline()
    if line != expected:
        proc.kill()
        proc.wait()
        raise AssertionError(f"child answered {line!r}, not {expected!r}; its stderr:\n{proc.stderr.read()}")


def collect_lines(stream: IO[str], into: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


def read_all(db: Path, keys: list[str]) -> dict[str, bytes | None]:
    async def main() -> dict[str, bytes | None]:
        store = SQLiteBackend(str(db))
        await store.open()
        try:
            return {key: await store.get(key) for key in keys}
        finally:
            await store.close()

    return asyncio.run(main())


def write_until_killed(db: Path, round_id: int, delay: float) -> list[str]:
    """Run a writer child, SIGKILL it ``delay`` seconds after its first acknowledgement."""
    proc = spawn("writer", str(db), str(round_id))
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    assert first.endswith("\n"), proc.stderr.read()
    lines = [first]
    reader = collect_lines(proc.stdout, lines)
    threading.Event().wait(delay)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    reader.join()
    proc.stdout.close()
    proc.stderr.close()
    if proc.stdin is not None:
        proc.stdin.close()
    # A line cut short by the kill was never a complete acknowledgement.
    return [line[:-1] for line in lines if line.endswith("\n")]


def test_every_acknowledged_write_survives_kill_dash_nine(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    acknowledged: list[str] = []
    for round_id in range(KILL_ROUNDS):
        acknowledged += write_until_killed(db, round_id, rng.uniform(0.0, 0.3))
        stored = read_all(db, acknowledged)
        lost = [key for key in acknowledged if stored[key] != child.expected_value(key)]
        assert lost == [], f"seed {seed}, round {round_id}: {len(lost)} acknowledged writes lost"
    assert len(acknowledged) > KILL_ROUNDS
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


def test_two_processes_write_one_file_concurrently_and_see_each_other(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    count = 400
    peers = {name: spawn("peer", db, name, str(count)) for name in ("left", "right")}
    try:
        for proc in peers.values():
            expect_line(proc, "ready\n")
        for proc in peers.values():  # start both at once, so their writes interleave
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in peers.values():
            expect_line(proc, "written\n")
        for proc in peers.values():
            assert proc.stdin is not None
            proc.stdin.write("check\n")
            proc.stdin.flush()
        for name, proc in peers.items():
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert json.loads(out) == {"left": count, "right": count}, name
    finally:
        for proc in peers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
