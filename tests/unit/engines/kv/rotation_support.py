"""Helpers for the KV rotation tests: a local webhook the generator calls, and running due jobs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.inprocess import InProcessServer


@dataclass
class Hook:
    """What the local webhook answers (``status``, ``answers`` in turn) and what it was sent."""

    status: int = 200
    answers: list[Any] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def webhook() -> Iterator[Hook]:
    """A loopback HTTP server answering POSTs with the next of ``Hook.answers`` as JSON."""
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            hook.received.append(json.loads(self.rfile.read(length)))
            answer = hook.answers.pop(0) if hook.answers else {"value": "unset"}
            body = json.dumps(answer).encode()
            self.send_response(hook.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{httpd.server_address[1]}/rotate"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_due(server: InProcessServer, ticks: int = 3) -> None:
    """A few ticks of the server's scheduler (what the background loop does every second)."""
    for _ in range(ticks):
        server.run(server.core.scheduler.run_due())


def history(server: InProcessServer, path: str, mount: str = "secret/") -> list[dict[str, Any]]:
    reply = server.request("GET", f"{mount}rotation/{path}")
    assert reply.status_code == 200, reply.text
    return list(reply.json()["data"]["history"])


def data(server: InProcessServer, path: str, version: int = 0, mount: str = "secret/") -> dict[str, Any]:
    reply = server.request("GET", f"{mount}data/{path}", params={"version": version} if version else None)
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["data"])
