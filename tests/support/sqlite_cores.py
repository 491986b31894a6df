"""Several Cores over one SQLite file, as the processes of a node (or of several nodes) share it.

Each :class:`InProcessServer` gets its own SQLite connection to ``db`` and its
own event loop thread. The first initialises and unseals the store (and runs
``setup`` on it, e.g. to mount an engine); later ones unseal with its keys,
as a restarted process or another node would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from strongroom.sdk.system import ManualClock
from strongroom.storage.sqlite import SQLiteBackend
from tests.support.inprocess import InProcessServer


def sqlite_core(
    db: Path,
    clock: ManualClock,
    *,
    first: InProcessServer | None = None,
    prepare: Callable[[InProcessServer], None] | None = None,
    setup: Callable[[InProcessServer], None] | None = None,
) -> InProcessServer:
    """An unsealed Core on ``db``. ``prepare`` runs before unsealing (register test engines), ``setup`` on the first."""
    store = SQLiteBackend(str(db))
    srv = InProcessServer(physical=store, clock=clock, dev=False)
    srv.run(store.open())
    if prepare is not None:
        prepare(srv)
    if first is None:
        srv.init_and_unseal()
        if setup is not None:
            setup(srv)
    else:
        srv.run(srv.seal.unseal_with_keys(first.unseal_keys))
        srv.root_token = first.root_token
    return srv


def close_core(srv: InProcessServer) -> None:
    srv.run(srv.physical.close())
    srv.close()


def tick_together(*servers: InProcessServer) -> None:
    """One scheduler tick in every Core at the same time (each on its own event loop thread)."""
    futures = [asyncio.run_coroutine_threadsafe(s.core.scheduler.run_due(), s.loop) for s in servers]
    for future in futures:
        future.result(timeout=60)
