"""Killing parts of the process tree: a worker is replaced and handed the key again;
a supervisor killed with ``kill -9`` takes every worker with it."""

from __future__ import annotations

import os
import signal

from tests.integration.conftest import WORKERS, Node
from tests.integration.process_harness import (
    children_of,
    is_alive,
    port_is_free,
    server_port,
    supervisor_pid,
    wait_until,
)

FRESH_REQUESTS = 30


def test_killed_worker_is_restarted_and_serves_unsealed(node: Node) -> None:
    assert node.api.request("POST", "secret/data/kept", json={"data": {"a": "1"}}).status_code == 200
    victim, survivor = node.workers()

    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not is_alive(victim), 5, "the killed worker to die")
    wait_until(lambda: len(children_of(supervisor_pid(node.server))) == WORKERS, 10, "a replacement worker")
    replacement = next(pid for pid in node.workers() if pid != survivor)
    assert replacement != victim

    # The replacement asks for the key when it is ready; once it answers
    # seal-status it has it, and must serve data, not 503.
    pids = [survivor, replacement]
    with node.api.pinned(replacement, pids) as via_replacement:
        read = via_replacement.request("GET", "secret/data/kept")
        assert read.status_code == 200, read.text
        assert read.json()["data"]["data"] == {"a": "1"}
    codes = [node.api.request("GET", "secret/data/kept").status_code for _ in range(FRESH_REQUESTS)]
    assert codes == [200] * FRESH_REQUESTS


def test_worker_restarted_while_sealed_gets_the_key_at_the_next_unseal(node: Node) -> None:
    assert node.api.request("PUT", "sys/seal").status_code == 204
    victim, survivor = node.workers()
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not is_alive(victim), 5, "the killed worker to die")
    wait_until(lambda: len(children_of(supervisor_pid(node.server))) == WORKERS, 10, "a replacement worker")
    replacement = next(pid for pid in node.workers() if pid != survivor)

    pids = [survivor, replacement]
    with node.api.pinned(replacement, pids) as via_replacement:
        assert via_replacement.request("GET", "secret/data/x").status_code == 503
    with node.api.pinned(survivor, pids) as via_survivor:
        for key in node.keys.keys[:2]:
            assert via_survivor.request("PUT", "sys/unseal", json={"key": key}).status_code == 200
    with node.api.pinned(replacement, pids) as via_replacement:
        written = via_replacement.request("POST", "secret/data/x", json={"data": {"b": "2"}})
        assert written.status_code == 200, written.text


def test_supervisor_killed_with_sigkill_leaves_no_worker_and_frees_the_port(node: Node) -> None:
    workers = node.workers()
    port = server_port(node.server)
    assert not port_is_free(port)
    # A stopped worker cannot notice its supervisor channel closing and exit by
    # itself: only the kernel's parent-death signal can end it.
    os.kill(workers[0], signal.SIGSTOP)
    try:
        node.server.kill9()
        wait_until(lambda: not any(is_alive(pid) for pid in workers), 5, "every worker to die with the supervisor")
        wait_until(lambda: port_is_free(port), 5, "the port to be free")
    finally:
        for pid in workers:  # only if the assertion failed: leave no orphan behind
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
