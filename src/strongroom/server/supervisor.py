"""The supervisor: owns the listening sockets and the seal, runs one worker per core.

Workers forward ``sys/init``, ``sys/unseal``, ``sys/seal`` and ``sys/rotate`` here
over a private socketpair. When the node unseals, seals or rotates its keyring,
the supervisor tells every worker and waits for each to acknowledge before the
call that caused it returns, so no worker keeps keys after a seal.

Workers are started with ``PR_SET_PDEATHSIG`` so they die with the supervisor,
even on ``kill -9``; a worker that dies is restarted and handed the keys again.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from strongroom.config.alerts import AlertsConfig
from strongroom.core.alerts import report
from strongroom.core.alerts.signals import SEALED
from strongroom.core.quotas.counter import create_table_fd
from strongroom.core.seal import KeyEvent
from strongroom.core.seal_ipc import CEREMONY_OPS, ceremony_call
from strongroom.crypto.barrier import Barrier
from strongroom.errors import InvalidRequest
from strongroom.sdk.seal import Seal
from strongroom.server import alerts_setup
from strongroom.server.ipc import Channel
from strongroom.server.metrics_setup import NodeMetricsDir
from strongroom.server.node import bind_listener, local_seal_manager
from strongroom.server.registry import make_storage
from strongroom.server.settings import NodeSettings

log = logging.getLogger("strongroom.supervisor")

RESTART_BACKOFF = 0.5
AUTO_UNSEAL_WAIT = 60


@dataclass
class WorkerHandle:
    index: int
    process: asyncio.subprocess.Process | None = None
    channel: Channel | None = None
    ready: bool = False
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


class Supervisor:
    def __init__(
        self,
        settings: NodeSettings,
        alerts: AlertsConfig | None = None,
        auto_seal: Seal | None = None,
        old_seal: Seal | None = None,
    ) -> None:
        self.settings = settings
        # The node's alert detector and quota table live here, once (see server.alerts_setup).
        self.alerts = alerts_setup.build_service(
            alerts or AlertsConfig(), alerts_setup.RemoteMetricSink(self._count_alert)
        )
        self.quota_fd = create_table_fd()
        # One set of SO_REUSEPORT sockets per worker: the kernel balances connections
        # across them evenly (a shared accept queue favours whichever worker wakes first).
        # The supervisor keeps them open, so connections queue while a worker restarts.
        self.worker_sockets = [
            [bind_listener(listener, reuse_port=True) for listener in settings.listeners]
            for _ in range(settings.worker_count())
        ]
        self.physical = make_storage(settings.storage_type, settings.storage_options)
        self.barrier = Barrier(self.physical)
        self.seal = local_seal_manager(self.barrier, self._broadcast, settings.storage_type, auto_seal, old_seal)
        self.workers = [WorkerHandle(i) for i in range(settings.worker_count())]
        self._stopping = False
        self._key_lock = asyncio.Lock()
        self._root_key: bytes | None = None
        self.unsealing: asyncio.Future[str] | None = None
        self.metrics_dir = NodeMetricsDir.create()

    # -- calls from workers ------------------------------------------------------------

    def _handler(self, worker: WorkerHandle) -> Any:
        async def handle(op: str, args: dict[str, Any]) -> Any:
            if op == "settings":
                return self.settings.to_json()
            if op == "ready":
                async with self._key_lock:
                    worker.ready = True
                    if self._root_key is not None:
                        await self._push(worker, KeyEvent("unsealed", self._root_key))
                return True
            if op == "seal_status":
                return await self.seal.status()
            if op == "init":
                return await self.seal.initialize(
                    int(args["secret_shares"]), int(args["secret_threshold"]),
                    int(args.get("recovery_shares", 0)), int(args.get("recovery_threshold", 0)),
                )
            if op == "unseal":
                return await self.seal.unseal(args.get("key"), bool(args.get("reset")), args.get("migrate") is True)
            if op == "seal":
                await self.seal.seal()
                return True
            if op == "rotate":
                return await self.seal.rotate()
            if op in CEREMONY_OPS:
                return await ceremony_call(self.seal, op, args)
            if op in alerts_setup.SUPERVISOR_OPS:
                return alerts_setup.supervisor_call(self.alerts, op, args)
            raise InvalidRequest(f"unknown supervisor operation {op!r}")

        return handle

    async def _count_alert(self, kind: str) -> None:
        await alerts_setup.count_in_a_worker([w.channel for w in self.workers if w.ready], kind)

    async def _broadcast(self, event: KeyEvent) -> None:
        if event.kind == "sealed":
            report(SEALED)
        async with self._key_lock:
            if event.kind == "unsealed":
                self._root_key = event.root_key
            elif event.kind == "sealed":
                self._root_key = None
            ready = [w for w in self.workers if w.ready and w.channel is not None]
            results = await asyncio.gather(*(self._push(w, event) for w in ready), return_exceptions=True)
            for worker, result in zip(ready, results, strict=True):
                if isinstance(result, BaseException):
                    # A worker that cannot take the change must not keep serving
                    # with stale keys: end it; it is restarted sealed-or-current.
                    log.error("worker %d did not apply %s; restarting it", worker.index, event.kind)
                    if worker.process is not None and worker.process.returncode is None:
                        worker.process.kill()

    async def _push(self, worker: WorkerHandle, event: KeyEvent) -> None:
        assert worker.channel is not None
        args: dict[str, Any] = {"kind": event.kind}
        if event.root_key is not None:
            args["root_key"] = base64.b64encode(event.root_key).decode()
        await worker.channel.call("key", args, limit_seconds=30)

    # -- worker lifecycle ----------------------------------------------------------------

    async def _spawn(self, worker: WorkerHandle) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_sock.set_inheritable(True)
        fds = [s.fileno() for s in self.worker_sockets[worker.index]]
        try:
            worker.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "strongroom.server.worker",
                "--listen-fds", ",".join(map(str, fds)),
                "--ipc-fd", str(child_sock.fileno()),
                "--quota-fd", str(self.quota_fd),
                "--supervisor-pid", str(os.getpid()),
                "--worker-index", str(worker.index),
                pass_fds=[*fds, child_sock.fileno(), self.quota_fd],
                stdin=asyncio.subprocess.DEVNULL,
                env=self.metrics_dir.worker_env(),
            )
        finally:
            child_sock.close()
        worker.ready = False
        worker.channel = await Channel.open(parent_sock, self._handler(worker))
        task = asyncio.create_task(worker.channel.serve())
        worker.tasks.add(task)
        task.add_done_callback(worker.tasks.discard)
        log.info("started worker %d (pid %d)", worker.index, worker.process.pid)

    async def _watch(self, worker: WorkerHandle) -> None:
        while not self._stopping:
            await self._spawn(worker)
            assert worker.process is not None
            code = await worker.process.wait()
            worker.ready = False
            self.metrics_dir.worker_exited(worker.process.pid)
            if worker.channel is not None:
                worker.channel.close()
            if self._stopping:
                return
            log.error("worker %d exited with %s; restarting", worker.index, code)
            await asyncio.sleep(RESTART_BACKOFF)

    def _forward_hangup(self) -> None:
        """SIGHUP is for the workers: each one reopens its audit files (log rotation)."""
        for worker in self.workers:
            if worker.ready and worker.process is not None and worker.process.returncode is None:
                worker.process.send_signal(signal.SIGHUP)

    async def run(self) -> int:
        await self.physical.open()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._forward_hangup)
        # Unseal before the workers start, so their first answer is already unsealed. A hung
        # HSM must not keep the node from serving (sealed): give up waiting after a while.
        self.unsealing = asyncio.ensure_future(self.seal.auto_unseal())  # kept referenced while it runs
        done, _ = await asyncio.wait([self.unsealing], timeout=AUTO_UNSEAL_WAIT)
        if not done:
            log.error("auto-unseal did not finish within %ss; serving sealed meanwhile", AUTO_UNSEAL_WAIT)
        watchers = [asyncio.create_task(self._watch(w)) for w in self.workers]
        await stop.wait()
        self._stopping = True
        await self.alerts.flush(5)  # while workers still run: they count the alerts metric
        log.info("shutting down: stopping %d workers", len(self.workers))
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                worker.process.terminate()
        for worker in self.workers:
            if worker.process is not None:
                try:
                    await asyncio.wait_for(worker.process.wait(), 15)
                except TimeoutError:
                    worker.process.kill()
        for task in watchers:
            task.cancel()
        self.barrier.seal()
        await self.physical.close()
        for sockets in self.worker_sockets:
            for sock in sockets:
                sock.close()
        return 0


async def run_supervisor(
    settings: NodeSettings,
    alerts: AlertsConfig | None = None,
    auto_seal: Seal | None = None,
    old_seal: Seal | None = None,
) -> int:
    supervisor = Supervisor(settings, alerts, auto_seal, old_seal)
    try:
        return await supervisor.run()
    finally:
        supervisor.metrics_dir.remove()
