"""Instructions per request on the event-loop thread, counted by callgrind: steady on a busy machine.

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce \\
        --callgrind-out-file=/tmp/cg.out .venv/bin/python bench/request_instructions.py read 300

then divide callgrind's "Collected" count by the number of requests (the script says so when it
ends). Kinds: ``read`` (child token), ``orphan`` (read with an orphan token), ``write``.

CPU time per request moves by a fifth or more when other processes share the cores (cache evictions,
preemption); an instruction count does not. The setup is the one of ``bench/request_path.py`` (a worker's
Core on SQLite, metrics in multi-process files); 100 requests warm up, then the measured ones run inside
``functools.reduce``, which nothing else on the request path calls, so callgrind's toggle counts exactly
those. Only the thread running the loop is counted: the SQLite writer thread's share of a write is not.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import READ_PATH, WRITE_PREFIX

WARMUP = 100
BODY = {"data": {"username": "bench", "password": "x" * 64, "port": "5432"}}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("read", "orphan", "write") or not argv[1].isdigit():
        print(__doc__)
        return 2
    kind, count = argv[0], int(argv[1])
    workdir = Path(tempfile.mkdtemp(dir=Path.cwd(), prefix="bench-instr-"))
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir(mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # before prometheus_client is imported
    import request_path

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    client, tokens, _physical = loop.run_until_complete(request_path.prepare(workdir))
    token = tokens["orphan" if kind == "orphan" else "child"]
    sequence = iter(range(10**9))

    async def run(n: int) -> None:
        for _ in range(n):
            if kind == "write":
                status, _ = await client.call("POST", f"{WRITE_PREFIX}i{next(sequence)}", token, BODY)
            else:
                status, _ = await client.call("GET", READ_PATH, token)
            if status != 200:
                raise RuntimeError(f"{kind} answered {status}")

    try:
        loop.run_until_complete(run(WARMUP))
        functools.reduce(lambda _acc, _item: loop.run_until_complete(run(count)), [None], None)
        print(f"measured {count} {kind} requests: per request = callgrind's Collected / {count}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # Every write was acknowledged, so committed. Not closing the storage: under valgrind, joining the
    # writer thread has been seen to hang (its scheduler starves the waiting thread).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
