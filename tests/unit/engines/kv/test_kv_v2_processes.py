"""KV v2 across worker processes: check-and-set holds when two processes write one secret through one file.

Each child (``kv_worker_child.py``) is a separate OS process with its own
SQLiteBackend, Barrier and KV v2 backend over the same file and root key, as
the server's workers are. Per-secret locks live in one process only, so what
keeps the versions straight here is the storage precondition on the secret's
metadata entry.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from kv_worker_child import MOUNT_PREFIX, ROOT_KEY, SECRET, call, mount

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.sdk.logical import Operation
from strongroom.storage.sqlite import SQLiteBackend

CHILD = Path(__file__).with_name("kv_worker_child.py")
WRITES_PER_PROCESS = 60
KEEP_EVERY_VERSION = 1000


def spawn(db: Path, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(db), name, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expect_line(proc: subprocess.Popen[str], expected: str) -> None:
    """Read one line from the child; on anything else, stop it and show its stderr."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    line = proc.stdout.readline()
    if line != expected:
        proc.kill()
        proc.wait()
        raise AssertionError(f"child answered {line!r}, not {expected!r}; its stderr:\n{proc.stderr.read()}")


async def initialise(db: Path) -> None:
    """A fresh barrier, and a mount that keeps every version so the test can read them all."""
    physical = SQLiteBackend(str(db))
    await physical.open()
    try:
        barrier = Barrier(physical)
        await barrier.initialize(ROOT_KEY)
        await barrier.unseal(ROOT_KEY)
        view = StorageView(barrier, MOUNT_PREFIX)
        await call(mount(view), view, Operation.UPDATE, "config", {"max_versions": KEEP_EVERY_VERSION})
    finally:
        await physical.close()


async def stored_versions(db: Path) -> tuple[int, dict[int, dict[str, Any]]]:
    """(current_version, the data of every version) as a third process sees them."""
    physical = SQLiteBackend(str(db))
    await physical.open()
    try:
        barrier = Barrier(physical)
        await barrier.unseal(ROOT_KEY)
        view = StorageView(barrier, MOUNT_PREFIX)
        kv = mount(view)
        metadata = await call(kv, view, Operation.READ, f"metadata/{SECRET}", {})
        versions = {}
        for number in map(int, metadata["versions"]):
            read = await call(kv, view, Operation.READ, f"data/{SECRET}", {"version": str(number)})
            versions[number] = read["data"]
        return metadata["current_version"], versions
    finally:
        await physical.close()


def run_writers(db: Path, names: list[str], count: int) -> dict[str, dict[str, Any]]:
    """Start every child, release them together, and return each one's report."""
    children = {name: spawn(db, name, count) for name in names}
    try:
        for proc in children.values():
            expect_line(proc, "ready\n")
        for proc in children.values():  # released together, so their writes interleave
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = {}
        for name, proc in children.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            reports[name] = json.loads(out)
        return reports
    finally:
        for proc in children.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_check_and_set_writes_from_two_processes_each_get_their_own_version(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    asyncio.run(initialise(db))
    names = ["left", "right"]

    reports = run_writers(db, names, WRITES_PER_PROCESS)

    total = WRITES_PER_PROCESS * len(names)
    acknowledged = [
        (version, name, n) for name in names for version, n in reports[name]["acknowledged"]
    ]
    numbers = sorted(version for version, _, _ in acknowledged)
    assert numbers == list(range(1, total + 1)), "two acknowledged writes share a version, or one is missing"
    current, versions = asyncio.run(stored_versions(db))
    assert current == total
    assert sorted(versions) == list(range(1, total + 1))
    for version, name, n in acknowledged:
        assert versions[version] == {"writer": name, "n": n}, f"version {version} holds another write"
    # Both children first wrote with the cas they read before being released: one of them lost.
    assert sum(reports[name]["mismatches"] for name in names) >= 1
