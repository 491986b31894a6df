"""The bare-framework ceiling: a hello-world ASGI app on Strongroom's own HTTP stack.

    .venv/bin/python bench/hello_server.py --port 8300 [--workers N]

It is served exactly the way the real server serves its API, so the only
difference between the two in a benchmark is Strongroom's own per-request work:

* the uvicorn configuration comes from ``strongroom.server.node.uvicorn_server``
  (httptools, uvloop, no access log, no server/date headers);
* the listening socket comes from ``strongroom.server.node.bind_listener``;
* with one worker the process serves the socket itself (as ``workers = 1`` does);
  with N workers the parent binds the socket and starts N child processes that
  inherit it and accept on it, as the supervisor does. Children die with the
  parent (``PR_SET_PDEATHSIG``).

The answer is a small JSON object with the same headers the API sends. Stops on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import uvloop

from strongroom.server.node import bind_listener, uvicorn_server
from strongroom.server.settings import ListenerSettings

Message = MutableMapping[str, Any]

BODY = b'{"hello":"world"}'
HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_PR_SET_PDEATHSIG = 1


async def hello_app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Answer every HTTP request with ``{"hello":"world"}``; ignore the body."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def serve_socket(sock: socket.socket, listener: ListenerSettings) -> None:
    """Serve ``hello_app`` on an already listening socket until SIGTERM/SIGINT."""
    # uvicorn_server is typed for the API app; any ASGI callable serves the same way.
    server = uvicorn_server(cast(Any, hello_app), listener, "warning")
    loop = asyncio.get_running_loop()

    def stop() -> None:
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await server.serve(sockets=[sock])


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def run_parent(listener: ListenerSettings, workers: int) -> int:
    sock = bind_listener(listener)
    if workers == 1:
        return uvloop.run(_serve_and_return(sock, listener))
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--port", str(listener.port), "--fd", str(sock.fileno())],
            pass_fds=[sock.fileno()],
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads exist yet in this process)
            stdin=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    sock.close()
    return max(codes, default=0)


async def _serve_and_return(sock: socket.socket, listener: ListenerSettings) -> int:
    await serve_socket(sock, listener)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hello-world ASGI app on Strongroom's uvicorn configuration")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing one socket")
    parser.add_argument("--fd", type=int, default=-1, help=argparse.SUPPRESS)  # set for child workers
    args = parser.parse_args(argv)
    listener = ListenerSettings(host=args.host, port=args.port, tls_disable=True)
    if args.fd >= 0:
        return uvloop.run(_serve_and_return(socket.socket(fileno=args.fd), listener))
    return run_parent(listener, args.workers)


if __name__ == "__main__":
    sys.exit(main())
