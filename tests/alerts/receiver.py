"""A webhook receiver on 127.0.0.1 for tests: records every POST, can fail the first few on purpose."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    #: Answer this status to the first ``fail_first`` POSTs (then 204).
    fail_first: int = 0
    fail_status: int = 503
    attempts: int = 0

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.deliveries) >= count:
                return list(self.deliveries)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")


@contextmanager
def receiver(fail_first: int = 0, fail_status: int = 503) -> Iterator[Receiver]:
    state: Receiver

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.attempts += 1
            if state.attempts <= state.fail_first:
                self.send_response(state.fail_status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            state.deliveries.append(Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", fail_first=fail_first,
                     fail_status=fail_status)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
