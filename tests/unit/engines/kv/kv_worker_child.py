"""A worker process for the cross-process KV v2 tests: the real stack over one SQLite file.

Usage:
    kv_worker_child.py DB NAME COUNT

Opens its own SQLiteBackend on DB, a Barrier unsealed with :data:`ROOT_KEY`, the
mount's view at :data:`MOUNT_PREFIX` and a KV v2 backend, exactly as a server
worker would after fork. Reads the secret's current version, prints "ready",
waits for a line on stdin, then makes COUNT acknowledged check-and-set writes
of ``{"writer": NAME, "n": i}`` to ``data/`` :data:`SECRET`: each writes with
``cas`` set to the version last read, and on a check-and-set mismatch reads
again. The first write uses the version read before "ready", so children
released together all try the same one. Finally it prints one JSON object:
``{"acknowledged": [[version, n], ...], "mismatches": m}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.engines.kv import KVBackend
from strongroom.errors import CheckAndSetMismatch, NotFound
from strongroom.sdk.logical import BackendContext, Operation, Request
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import SystemView
from strongroom.storage.sqlite import SQLiteBackend

ROOT_KEY = bytes(range(32))
MOUNT_PREFIX = "logical/kv/"
SECRET = "shared"


def mount(storage: StorageBackend) -> KVBackend:
    """A KV v2 mount over ``storage`` (the mount's view)."""
    ctx = BackendContext(
        storage=storage, system=SystemView(), mount_point="secret/", mount_accessor="kv_x", options={"version": "2"}
    )
    return KVBackend(ctx)


async def call(kv: KVBackend, storage: StorageBackend, operation: Operation, path: str, data: dict[str, Any]) -> Any:
    response = await kv.handle(Request(operation=operation, path=path, data=data, storage=storage))
    return None if response is None else response.data


async def current_version(kv: KVBackend, storage: StorageBackend) -> int:
    """The secret's current version; 0 while it does not exist."""
    try:
        metadata = await call(kv, storage, Operation.READ, f"metadata/{SECRET}", {})
    except NotFound:
        return 0
    version: int = metadata["current_version"]
    return version


async def work(db: str, name: str, count: int) -> None:
    physical = SQLiteBackend(db)
    await physical.open()
    try:
        barrier = Barrier(physical)
        await barrier.unseal(ROOT_KEY)
        view = StorageView(barrier, MOUNT_PREFIX)
        kv = mount(view)
        # Read before "ready": every child's first write then uses the same cas, and only one can win.
        cas: int | None = await current_version(kv, view)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        acknowledged: list[list[int]] = []
        mismatches = 0
        for n in range(count):
            while True:
                if cas is None:
                    cas = await current_version(kv, view)
                body = {"data": {"writer": name, "n": n}, "options": {"cas": cas}}
                cas = None  # whatever happens, the next write reads afresh
                try:
                    written = await call(kv, view, Operation.UPDATE, f"data/{SECRET}", body)
                except CheckAndSetMismatch:
                    mismatches += 1
                    continue
                acknowledged.append([written["version"], n])
                break
        print(json.dumps({"acknowledged": acknowledged, "mismatches": mismatches}), flush=True)
    finally:
        await physical.close()


def main(argv: list[str]) -> None:
    db, name, count = argv
    asyncio.run(work(db, name, int(count)))


if __name__ == "__main__":
    main(sys.argv[1:])
