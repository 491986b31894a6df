"""Composition-root wiring for metrics: the node's metrics directory, timed storage, and each Core's exporter.

Multi-process nodes. prometheus_client decides at its first import whether
values live in process memory or in per-process files, so the decision must be
made before a worker imports anything: the supervisor creates one fresh
directory per node run (``mkdtemp``: mode 0700, unpredictable name, empty) and
passes it to each worker in ``PROMETHEUS_MULTIPROC_DIR`` in the environment it
execs the worker with. The supervisor itself never updates metrics, so its own
environment stays untouched. When a worker exits its live gauges are dropped
(``mark_process_dead``); its counters and histograms stay in the totals. The
directory is removed when the supervisor stops (a ``kill -9`` leaves it behind
in the runtime directory; it holds counts, never secrets).

Single-process nodes (dev mode, in-memory storage, ``workers = 1``) keep values
in memory and need none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator

from prometheus_client.multiprocess import mark_process_dead

from strongroom.core import telemetry
from strongroom.core.core import Core
from strongroom.core.metrics.barrier_usage import BarrierUsage
from strongroom.core.metrics.buffer import BUFFER, FLUSH_INTERVAL
from strongroom.core.metrics.endpoint import METRICS_PATH, MetricsExporter
from strongroom.core.metrics.exposition import MULTIPROC_ENV
from strongroom.core.metrics.observer import MetricsObserver
from strongroom.core.metrics.storage_timing import TimedStorage
from strongroom.sdk.storage import StorageBackend
from strongroom.server.settings import NodeSettings

log = logging.getLogger("strongroom.metrics")


class NodeMetricsDir:
    """The supervisor's per-node metrics directory (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def create(cls) -> NodeMetricsDir:
        """A new empty directory (0700) under ``$XDG_RUNTIME_DIR`` when set, else the system temp directory."""
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = runtime if runtime and os.path.isdir(runtime) else None
        return cls(tempfile.mkdtemp(prefix="strongroom-metrics-", dir=base))

    def worker_env(self) -> dict[str, str]:
        """The environment to exec a worker with: ours, with the node's metrics directory."""
        return {**os.environ, MULTIPROC_ENV: self.path}

    def worker_exited(self, pid: int) -> None:
        """Drop the live gauges of a worker that exited (its counters stay in the totals)."""
        mark_process_dead(pid, self.path)  # type: ignore[no-untyped-call]  # untyped in prometheus_client 0.26

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def timed_storage(physical: StorageBackend, storage_type: str) -> StorageBackend:
    """``physical`` with its operations timed into ``strongroom_storage_operation_seconds``."""
    return TimedStorage(physical, storage_type)


def install_metrics(core: Core, settings: NodeSettings) -> None:
    """Give ``core`` its request observer, ``sys/metrics`` exporter and barrier usage tracker."""
    usage = BarrierUsage(
        core.barrier,
        core.seal_manager.rotate,
        max_operations=settings.key_rotation_max_operations,
        clock=core.clock,
        random_bytes=core.random_bytes,
    )
    exporter = MetricsExporter(core, usage, unauthenticated=settings.unauthenticated_metrics_access)
    core.metrics = exporter
    if settings.unauthenticated_metrics_access:
        core.public_endpoints[METRICS_PATH] = exporter.serve_public
    core.observers.append(MetricsObserver(usage.after_request))
    telemetry.WORKERS_UP.set(1)


@contextlib.asynccontextmanager
async def metrics_running(core: Core) -> AsyncIterator[None]:
    """Flush the barrier usage periodically while serving, and once more at shutdown."""
    if core.metrics is None:
        yield
        return
    usage = core.metrics.usage
    tasks = [asyncio.create_task(usage.run()), asyncio.create_task(_flush_buffered_metrics())]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        BUFFER.flush()
        await usage.close()


async def _flush_buffered_metrics() -> None:
    """Move this process's buffered metric updates into the shared files a few times a second."""
    while True:
        await asyncio.sleep(FLUSH_INTERVAL)
        try:
            BUFFER.flush()
        except Exception:
            log.exception("flushing buffered metrics failed")
