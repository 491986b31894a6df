"""What it costs to count a rate-limit quota hit node-wide, three ways.

    .venv/bin/python bench/quota_counting.py [--hits N]

* ``shared table``: ``strongroom.core.quotas.counter.SharedCounter`` (a memfd
  mapped by every worker, ``lockf`` around a few struct reads and writes), as
  the server does it.
* ``ipc round trip``: asking another process over the supervisor channel
  (``strongroom.server.ipc.Channel``, length-prefixed JSON over a socketpair),
  the alternative of counting in the supervisor. Measured with the answering
  side in a forked child, so both context switches are paid.
* ``per-worker share``: a process-local dict, the cost floor (and the option
  that is wrong: a keep-alive client stays on one worker, which would refuse
  it at rate/N).

Prints the wall time per hit and this process's CPU time per hit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import time

import uvloop

from strongroom.core.quotas.counter import SharedCounter, key_digest
from strongroom.server.ipc import Channel


def _report(name: str, hits: int, wall: float, cpu: float) -> None:
    print(f"{name:18s} {wall / hits * 1e6:8.2f} us wall  {cpu / hits * 1e6:8.2f} us cpu (this process)")


def shared_table(hits: int) -> None:
    counter = SharedCounter()
    keys = [key_digest("quota-id", f"10.0.{i // 256}.{i % 256}") for i in range(1000)]
    now = time.monotonic()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(hits):
        counter.hit(keys[i % len(keys)], limit=1_000_000, interval=60.0, block=0.0, now=now)
    _report("shared table", hits, time.perf_counter() - wall, time.process_time() - cpu)
    counter.close()


def local_dict(hits: int) -> None:
    counts: dict[bytes, int] = {}
    keys = [key_digest("quota-id", f"10.0.{i // 256}.{i % 256}") for i in range(1000)]
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(hits):
        key = keys[i % len(keys)]
        counts[key] = counts.get(key, 0) + 1
    _report("per-worker share", hits, time.perf_counter() - wall, time.process_time() - cpu)


async def _serve(sock: socket.socket) -> None:
    async def answer(op: str, args: dict[str, object]) -> object:
        return {"allowed": True, "remaining": 1, "reset": 1.0}

    channel = await Channel.open(sock, answer)
    await channel.serve()


async def _ask(sock: socket.socket, hits: int) -> None:
    async def refuse(op: str, args: dict[str, object]) -> object:
        raise ValueError(op)

    channel = await Channel.open(sock, refuse)
    task = asyncio.create_task(channel.serve())
    args = {"quota": "q", "client": "10.0.0.1"}
    for _ in range(200):
        await channel.call("quota_hit", args)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(hits):
        await channel.call("quota_hit", args)
    _report("ipc round trip", hits, time.perf_counter() - wall, time.process_time() - cpu)
    channel.close()
    task.cancel()


def ipc_round_trip(hits: int) -> None:
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        parent.close()
        uvloop.run(_serve(child))
        os._exit(0)
    child.close()
    try:
        uvloop.run(_ask(parent, hits))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=20_000)
    args = parser.parse_args()
    local_dict(args.hits)
    shared_table(args.hits)
    ipc_round_trip(args.hits)


if __name__ == "__main__":
    main()
