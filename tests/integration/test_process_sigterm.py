"""SIGTERM to the supervisor is a graceful shutdown: requests in flight finish, the exit code is 0."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import httpx
from tests.integration.conftest import Node
from tests.integration.process_harness import REQUEST_TIMEOUT, Api, is_alive, unseal, wait_until


def test_sigterm_lets_an_in_flight_write_finish_and_exits_zero(node: Node) -> None:
    workers = node.workers()
    body_started = threading.Event()
    may_finish = threading.Event()
    outcome: list[httpx.Response | BaseException] = []

    def slow_body() -> Iterator[bytes]:
        # The request line, headers and half the body reach a worker; the rest
        # only once the shutdown has begun.
        yield b'{"data": {"written": '
        body_started.set()
        may_finish.wait(REQUEST_TIMEOUT)
        yield b'"during shutdown"}}'

    def send() -> None:
        try:
            with httpx.Client(base_url=node.server.address, timeout=REQUEST_TIMEOUT) as client:
                outcome.append(client.post("/v1/secret/data/in-flight", content=slow_body(),
                                           headers={"X-Vault-Token": node.keys.root_token}))
        except BaseException as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert body_started.wait(REQUEST_TIMEOUT)
        time.sleep(0.3)  # let the worker read the headers and start the request
        assert node.server.process is not None
        node.server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the workers are shutting down now, with the request still open
        assert node.server.process.poll() is None, "the node exited with a request in flight"
    finally:
        may_finish.set()
        sender.join(REQUEST_TIMEOUT)

    assert len(outcome) == 1
    response = outcome[0]
    assert isinstance(response, httpx.Response), repr(response)
    assert response.status_code == 200, response.text
    assert node.server.process.wait(20) == 0
    wait_until(lambda: not any(is_alive(pid) for pid in workers), 5, "every worker to exit")

    # The write that finished during shutdown is durable.
    node.server.start()
    api = Api(node.server.address, node.keys.root_token)
    unseal(api, node.keys)
    read = api.request("GET", "secret/data/in-flight")
    assert read.status_code == 200, read.text
    assert read.json()["data"]["data"] == {"written": "during shutdown"}
