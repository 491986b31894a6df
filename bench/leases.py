"""What 100,000 outstanding leases cost: creating them, starting a node over them, and the idle expiry loop.

    .venv/bin/python bench/leases.py [--leases N] [--idle S] [--dir DIR] [--json FILE]

One SQLite file behind the real barrier. The leases are written in batches of
1,000 (the same records and index keys ``ExpirationManager.register`` writes,
spread uniformly over the next 32 days, so a few fall due per minute like a
real fleet). Then, as a restarted node would: a fresh barrier, seal manager and
Core over the file, unsealed, and the expiry loop's first tick; that is the
startup figure. Finally the loop (``run_expiry``, one tick a second on the real
clock) runs for ``--idle`` seconds and the process CPU it used is reported per
tick. Nothing is due during the idle window: the figure is the pure cost of
waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from strongroom.core.core import Core
from strongroom.core.leases.records import LeaseEntry, encode, id_key
from strongroom.core.leases.runner import run_expiry
from strongroom.core.leases.schedule import due_key
from strongroom.core.seal import KeyEvent, LocalSealManager
from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.sdk.storage import TxnOp
from strongroom.server.node import apply_key_event, build_core, local_seal_manager
from strongroom.server.settings import NodeSettings
from strongroom.storage.sqlite import SQLiteBackend

MONTH = 32 * 24 * 3600


async def node(path: str) -> tuple[Core, LocalSealManager, SQLiteBackend]:
    """A process's view of the node: storage, barrier, seal and Core, as the single-process server builds it."""
    physical = SQLiteBackend(path)
    await physical.open()
    barrier = Barrier(physical)
    holder: list[Core] = []

    async def on_key(event: KeyEvent) -> None:
        await apply_key_event(holder[0], event)

    seal = local_seal_manager(barrier, on_key, "sqlite")
    core = build_core(NodeSettings(storage_type="sqlite"), physical, seal, barrier)
    holder.append(core)
    return core, seal, physical


async def bench(count: int, idle: float, workdir: Path) -> dict[str, float]:
    """Create ``count`` leases, restart over them, idle the loop for ``idle`` seconds; the figures."""
    path = str(workdir / "leases.db")
    core, seal, physical = await node(path)
    init = await seal.initialize_with_token(1, 1, None)
    await seal.unseal_with_keys(init.keys)
    view = StorageView(core.barrier, "sys/expire/")
    now = time.time()
    started = time.perf_counter()
    for start in range(0, count, 1000):
        ops: list[TxnOp] = []
        for i in range(start, min(start + 1000, count)):
            expire = now + 3600 + (i * MONTH) / count
            lease_id = f"database/creds/app/{os.urandom(16).hex()}"
            entry = LeaseEntry(lease_id, "database/", "creds/app", now, expire, expire, True)
            ops += [TxnOp(id_key(lease_id), encode(entry)), TxnOp(due_key(expire, lease_id), b"")]
        await view.transaction(ops)
    create_s = time.perf_counter() - started
    await physical.close()

    started = time.perf_counter()
    core, seal, physical = await node(path)
    await seal.unseal_with_keys(init.keys)
    looked_at = await core.leases.expire_due()
    startup_s = time.perf_counter() - started
    assert looked_at == 0, "nothing is due in the first hour"

    stop = asyncio.Event()
    cpu = time.process_time()
    loop = asyncio.create_task(run_expiry(core.leases, stop, ready=lambda: True))
    await asyncio.sleep(idle)
    stop.set()
    await loop
    idle_cpu = time.process_time() - cpu
    await physical.close()
    return {
        "leases": count,
        "create_s": round(create_s, 2),
        "startup_s": round(startup_s, 3),
        "idle_seconds": idle,
        "idle_cpu_ms_per_s": round(idle_cpu * 1000 / idle, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leases", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = asyncio.run(bench(args.leases, args.idle, Path(tmp)))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
