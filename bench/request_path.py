"""Strongroom's own CPU per request, without sockets: the ASGI app called directly.

    .venv/bin/python bench/request_path.py [--requests N] [--kind read|write|both] [--profile] [--top K]
                                           [--metrics workers|single] [--dir DIR]

Builds one process's Core as a worker does (SQLite storage with durable commits
wrapped for storage timings, the node's seal manager, ``build_core`` with its
metrics, ``make_app``; metric values in shared files as in a multi-worker node
unless ``--metrics single``),
initialises, unseals and prepares it through the HTTP API shapes (KV v2 at
``secret/``, a policy, non-root tokens, one secret), then calls the ASGI app
in a loop on uvloop with a pre-built scope. It prints the CPU time per request
for a KV v2 read (with a child token of root, as ``bench/run.py`` uses, and with
an orphan token, as a login would hand out: no ancestor to check) and a KV v2
write (awaited one at a time, so each pays one durable commit). With
``--profile`` it also runs each loop under cProfile and prints the top
functions by their own time.

What it leaves out is the HTTP stack (uvicorn, httptools, the socket writes),
which ``bench/run.py``'s hello-world scenario measures on its own; the two
together explain the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import POLICY, READ_PATH, WRITE_PREFIX

Message = MutableMapping[str, Any]


class Client:
    """Calls the ASGI app the way uvicorn would, for one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, token: str = "", body: Any = None) -> tuple[int, bytes]:
        raw = b"" if body is None else json.dumps(body).encode()
        headers = [(b"host", b"bench"), (b"user-agent", b"bench")]
        if token:
            headers.append((b"x-vault-token", token.encode()))
        if raw:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": "/v1/" + path, "raw_path": ("/v1/" + path).encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8200),
        }
        status = 0
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def ok(self, method: str, path: str, token: str = "", body: Any = None) -> Any:
        status, raw = await self.call(method, path, token, body)
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}: {raw.decode(errors='replace')}")
        return json.loads(raw) if raw else None


async def prepare(workdir: Path) -> tuple[Client, dict[str, str], Any]:
    """A fresh unsealed Core on SQLite in ``workdir``; returns the client, the
    bench tokens by kind ("child": made by root with ``auth/token/create``, as the
    server benchmark uses; "orphan": no parent, like a token from a login) and the
    physical backend to close."""
    # Imported here: prometheus_client reads its multi-process setting at import (see main).
    from strongroom.core.seal import KeyEvent
    from strongroom.crypto.barrier import Barrier
    from strongroom.server.metrics_setup import timed_storage
    from strongroom.server.node import apply_key_event, build_core, local_seal_manager, make_app
    from strongroom.server.registry import make_storage
    from strongroom.server.settings import ListenerSettings, NodeSettings

    settings = NodeSettings(storage_type="sqlite", storage_options={"path": str(workdir / "strongroom.db")},
                            workers=1, log_level="warn")
    # Wrapped exactly as a worker wraps its storage (timed for metrics).
    physical = timed_storage(make_storage(settings.storage_type, settings.storage_options), settings.storage_type)
    await physical.open()
    barrier = Barrier(physical)

    async def on_key(event: KeyEvent) -> None:
        await apply_key_event(core, event)

    seal = local_seal_manager(barrier, on_key, settings.storage_type)
    core = build_core(settings, physical, seal, barrier)
    client = Client(make_app(core, ListenerSettings(tls_disable=True)))
    init = await client.ok("PUT", "sys/init", body={"secret_shares": 1, "secret_threshold": 1})
    await client.ok("PUT", "sys/unseal", body={"key": init["keys_base64"][0]})
    root = init["root_token"]
    await client.ok("POST", "sys/mounts/secret", root, {"type": "kv", "options": {"version": "2"}})
    await client.ok("PUT", "sys/policies/acl/bench", root, {"policy": POLICY})
    tokens = {}
    for kind, path in (("child", "auth/token/create"), ("orphan", "auth/token/create-orphan")):
        created = await client.ok("POST", path, root, {"policies": ["bench"], "ttl": "24h"})
        tokens[kind] = created["auth"]["client_token"]
    await client.ok("POST", READ_PATH, tokens["child"], {"data": {"username": "bench", "password": "x" * 28}})
    return client, tokens, physical


_loops = itertools.count()


async def loop_requests(client: Client, token: str, kind: str, count: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the process (all threads: the SQLite writer
    thread too) per request over ``count`` sequential requests. Writes go to
    secrets no earlier loop wrote."""
    loop_id = next(_loops)
    body = {"data": {"username": "bench", "password": "x" * 64, "port": "5432"}}
    started = os.times()
    for n in range(count):
        if kind == "read":
            status, _ = await client.call("GET", READ_PATH, token)
        else:
            status, _ = await client.call("POST", f"{WRITE_PREFIX}{loop_id}-{n}", token, body)
        if status != 200:
            raise RuntimeError(f"{kind} answered {status}")
    ended = os.times()
    return (ended.user - started.user) / count, (ended.system - started.system) / count


#: (label, request kind, token kind)
LOOPS = (
    ("kv read, child token", "read", "child"),
    ("kv read, orphan token", "read", "orphan"),
    ("kv write, child token", "write", "child"),
)


async def main_async(args: argparse.Namespace, workdir: Path) -> None:
    client, tokens, physical = await prepare(workdir)
    try:
        for label, kind, token_kind in LOOPS:
            if args.kind not in ("both", kind):
                continue
            token = tokens[token_kind]
            count = args.requests if kind == "read" else max(1, args.requests // 4)
            await loop_requests(client, token, kind, min(count, 500))  # warm caches and code paths
            user, system = await loop_requests(client, token, kind, count)
            print(f"{label:<22} {(user + system) * 1e6:6.1f} µs CPU per request: user {user * 1e6:5.1f}, "
                  f"system {system * 1e6:5.1f}  ({count} sequential requests, no HTTP)")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await loop_requests(client, token, kind, count)
                profiler.disable()
                stats = pstats.Stats(profiler)
                stats.sort_stats("tottime").print_stats(args.top)
    finally:
        await physical.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="reads per loop (writes: a quarter)")
    parser.add_argument("--kind", choices=("read", "write", "both"), default="both", help="which loops to run")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    parser.add_argument("--top", type=int, default=30, help="functions to list with --profile")
    parser.add_argument("--dir", type=Path, default=None, help="directory for the SQLite file")
    parser.add_argument("--metrics", choices=("workers", "single"), default="workers",
                        help="metric values as a multi-worker node keeps them (files shared between processes, "
                             "the default) or as a single-process node does (in memory)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir or Path.cwd(), prefix="bench-path-") as tmp:
        if args.metrics == "workers":
            # What the supervisor hands each worker; must be set before prometheus_client is imported.
            metrics_dir = Path(tmp) / "metrics"
            metrics_dir.mkdir(mode=0o700)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        uvloop.run(main_async(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
