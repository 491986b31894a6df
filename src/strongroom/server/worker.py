"""A worker process: serves HTTP on sockets inherited from the supervisor.

Started by the supervisor as ``python -m strongroom.server.worker --listen-fds
3,4 --ipc-fd 5``. It dies with the supervisor (``PR_SET_PDEATHSIG``, set before
exec), and it also stops when the supervisor channel closes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ctypes
import logging
import os
import signal
import socket
import sys
from typing import Any

from strongroom.core.core import Core
from strongroom.core.seal import KeyEvent
from strongroom.crypto.barrier import Barrier
from strongroom.server.alerts_setup import count_alert_here, wire_worker
from strongroom.server.ipc import Channel
from strongroom.server.logging_setup import setup_logging
from strongroom.server.metrics_setup import metrics_running, timed_storage
from strongroom.server.node import apply_key_event, build_core, serve
from strongroom.server.registry import make_storage
from strongroom.server.remote_seal import RemoteSealManager
from strongroom.server.settings import NodeSettings

log = logging.getLogger("strongroom.worker")

_PR_SET_PDEATHSIG = 1


async def worker_main(listen_fds: list[int], ipc_fd: int, quota_fd: int | None = None, *, jobs: bool = False) -> int:
    core_ref: list[Core] = []

    async def on_supervisor_call(op: str, args: dict[str, Any]) -> Any:
        if op == "alert_raised":
            return count_alert_here(args)
        if op != "key":
            raise ValueError(f"unknown supervisor call {op!r}")
        root_key = base64.b64decode(args["root_key"]) if args.get("root_key") else None
        await apply_key_event(core_ref[0], KeyEvent(args["kind"], root_key))
        return True

    channel = await Channel.open(socket.socket(fileno=ipc_fd), on_supervisor_call)
    channel_task = asyncio.create_task(channel.serve())
    settings = NodeSettings.from_json(await channel.call("settings"))
    setup_logging(settings.log_level, f"worker-{os.getpid()}")
    physical = timed_storage(make_storage(settings.storage_type, settings.storage_options), settings.storage_type)
    await physical.open()
    barrier = Barrier(physical)
    core_ref.append(build_core(settings, physical, RemoteSealManager(channel), barrier))
    wire_worker(core_ref[0], channel, quota_fd)
    await channel.call("ready")
    sockets = [socket.socket(fileno=fd) for fd in listen_fds]
    serve_task = asyncio.create_task(serve(core_ref[0], settings, sockets, jobs=jobs))
    try:
        async with metrics_running(core_ref[0]):
            done, _ = await asyncio.wait({serve_task, channel_task}, return_when=asyncio.FIRST_COMPLETED)
            if channel_task in done:
                log.error("supervisor channel closed; worker exiting")
                serve_task.cancel()
    finally:
        await physical.close()
    return 0


def _die_with_supervisor() -> None:
    """Ask the kernel for SIGKILL when our parent (the supervisor) dies, even by ``kill -9``.

    Armed here, first thing after exec, rather than in a pre-exec hook: code run
    between fork and exec in a process with threads can deadlock.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="strongroom-worker")
    parser.add_argument("--listen-fds", required=True)
    parser.add_argument("--ipc-fd", type=int, required=True)
    parser.add_argument("--quota-fd", type=int, default=None)
    parser.add_argument("--supervisor-pid", type=int, required=True)
    # Worker 0 runs the node's scheduled jobs (lease expiry); the others only serve.
    parser.add_argument("--worker-index", type=int, default=-1)
    args = parser.parse_args(argv)
    _die_with_supervisor()
    if os.getppid() != args.supervisor_pid:
        return 1  # the supervisor died before the death signal was armed
    fds = [int(fd) for fd in args.listen_fds.split(",") if fd]
    import uvloop

    return uvloop.run(worker_main(fds, args.ipc_fd, args.quota_fd, jobs=args.worker_index == 0))


if __name__ == "__main__":
    sys.exit(main())
