"""Crash safety of seal migration: ``kill -9`` of the node at every step boundary, both directions.

Node B (supervisor with two workers, SQLite) migrates between Shamir and a
transit seal whose key lives in server A. Each boundary starts again from a
copy of the same store, and the node is killed:

* ``below-quorum``: after one of the two keys (progress lives in memory only);
* ``old-seal-called`` / ``new-seal-called``: while the old seal is asked to
  decrypt (transit -> Shamir) or the new seal to encrypt (Shamir -> transit).
  A is stopped with SIGSTOP first, so B is held inside that call when killed;
* ``committed``: as soon as the store shows the new seal configuration (the
  node may or may not have answered yet);
* ``answered``: after the migration answered.

After each kill the store must be in exactly the old or the new state (as the
boundary implies), unseal with that seal and its keys, and read back the data
written before; where it is still old, running the migration again completes it.
No fault hook is compiled into the server: the kills come from outside, timed
by what the log or the store shows.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.process_harness import Api, enable_kv2, is_alive, wait_until, worker_pids
from tests.seals.transit_support import server_a, server_b, transit_block
from tests.support.server import ServerProcess, running

__all__ = ["server_a"]
pytestmark = pytest.mark.slow  # a crash loop: about a dozen node starts per direction
SECRET = {"password": "hunter2"}
WORKERS = 2
STEP_TIMEOUT = 8  # well under the transit seal's own 10 s timeout


@dataclass
class Store:
    """A prepared store (files under ``template``) and the keys of its old seal."""

    template: Path
    keys: list[str]
    root: str


def stored_seal_type(directory: Path) -> str:
    with sqlite3.connect(f"file:{directory / 'strongroom.db'}?mode=ro", uri=True) as db:
        row = db.execute("SELECT value FROM entries WHERE key = 'core/seal-config'").fetchone()
    return str(json.loads(row[0])["type"])


def copy_store(store: Store, directory: Path) -> None:
    directory.mkdir(parents=True)
    for path in store.template.glob("strongroom.db*"):
        shutil.copy2(path, directory / path.name)


def node(directory: Path, a: ServerProcess, seal: str) -> ServerProcess:
    return server_b(directory, a, workers=WORKERS, seal=seal)


def write_secret(address: str, root: str) -> None:
    api = Api(address, root)
    enable_kv2(api)
    assert api.request("POST", "secret/data/app", json={"data": SECRET}).status_code == 200


def reads_back(address: str, root: str) -> bool:
    response = Api(address, root).request("GET", "secret/data/app")
    return response.status_code == 200 and response.json()["data"]["data"] == SECRET


def unseal(address: str, keys: list[str], migrate: bool = False) -> dict[str, object]:
    api = Api(address)
    status: dict[str, object] = {}
    for key in keys:
        response = api.request("PUT", "sys/unseal", json={"key": key, "migrate": migrate})
        assert response.status_code == 200, response.text
        status = response.json()
    return status


def kill_node(server: ServerProcess) -> None:
    workers = worker_pids(server, WORKERS)
    server.kill9()
    wait_until(lambda: not any(is_alive(pid) for pid in workers), 5, "the workers to die with the supervisor")


def shamir_store(tmp_path: Path, a: ServerProcess) -> Store:
    template = tmp_path / "template"
    with running(node(template, a, "")) as b:
        answer = Api(b.address).request("PUT", "sys/init", json={"secret_shares": 3, "secret_threshold": 2}).json()
        unseal(b.address, answer["keys"][:2])
        write_secret(b.address, answer["root_token"])
    return Store(template / "b", answer["keys"], answer["root_token"])


def transit_store(tmp_path: Path, a: ServerProcess) -> Store:
    template = tmp_path / "template"
    with running(node(template, a, transit_block(a))) as b:
        answer = Api(b.address).request(
            "PUT", "sys/init", json={"recovery_shares": 3, "recovery_threshold": 2}).json()
        write_secret(b.address, answer["root_token"])
    return Store(template / "b", answer["recovery_keys"], answer["root_token"])


def migrate_until(boundary: str, b: ServerProcess, a: ServerProcess, store: Store, log_line: str) -> None:
    """Run the migration on ``b`` up to ``boundary``, then kill it. ``log_line``: B is about to call A."""
    assert unseal(b.address, store.keys[:1], migrate=True)["progress"] == 1
    if boundary == "below-quorum":
        kill_node(b)
        return
    if boundary == "answered":
        assert unseal(b.address, store.keys[1:2], migrate=True)["sealed"] is False
        kill_node(b)
        return
    seal_call = boundary.endswith("-seal-called")
    start = len(b.log_text())
    if seal_call:
        assert a.process is not None
        a.process.send_signal(signal.SIGSTOP)  # its transit key cannot answer: B will wait inside the call

    def last_key() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the node dies under the request, as intended
            Api(b.address).request("PUT", "sys/unseal", json={"key": store.keys[1], "migrate": True})

    b_dir = Path(b.log_path).parent
    old_type = stored_seal_type(b_dir)
    sender = threading.Thread(target=last_key)
    sender.start()
    try:
        if seal_call:
            wait_until(lambda: log_line in b.log_text()[start:], STEP_TIMEOUT, f"B to log {log_line!r}", 0.01)
        else:
            wait_until(lambda: stored_seal_type(b_dir) != old_type, STEP_TIMEOUT,
                       "the store to show the new seal", 0.002)
        kill_node(b)
    finally:
        if seal_call:
            assert a.process is not None
            a.process.send_signal(signal.SIGCONT)
        sender.join(20)


def check_old(directory: Path, a: ServerProcess, store: Store, old_seal: str, migration_seal: str) -> None:
    """The old seal still opens the store, and the migration can simply be run again."""
    with running(node(directory, a, old_seal)) as b:
        if old_seal == "":
            unseal(b.address, store.keys[1:3])
        assert reads_back(b.address, store.root)
    with running(node(directory, a, migration_seal)) as b:
        assert Api(b.address).request("GET", "sys/seal-status").json()["migration"] is True
        assert unseal(b.address, store.keys[1:3], migrate=True)["sealed"] is False
        assert reads_back(b.address, store.root)


BOUNDARIES_TO_TRANSIT = [("below-quorum", False), ("new-seal-called", False), ("committed", True),
                         ("answered", True)]
BOUNDARIES_FROM_TRANSIT = [("below-quorum", False), ("old-seal-called", False), ("committed", True),
                           ("answered", True)]


def test_kill_9_at_every_step_of_shamir_to_transit_leaves_a_store_that_unseals(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    store = shamir_store(tmp_path, server_a)
    migration_seal = transit_block(server_a)
    for boundary, migrated in BOUNDARIES_TO_TRANSIT:
        directory = tmp_path / boundary
        copy_store(store, directory / "b")
        b = node(directory, server_a, migration_seal)
        b.start()
        try:
            migrate_until(boundary, b, server_a, store, "keys checked, writing them for the new seal")
        finally:
            b.stop()
        assert stored_seal_type(directory / "b") == ("transit" if migrated else "shamir"), boundary
        if not migrated:
            check_old(directory, server_a, store, "", migration_seal)
            continue
        with running(node(directory, server_a, migration_seal)) as b:  # auto-unseals through A
            assert reads_back(b.address, store.root), boundary
            assert Api(b.address, store.root).request("PUT", "sys/seal").status_code == 204
            assert unseal(b.address, store.keys[::2])["sealed"] is False  # old unseal keys: recovery keys now
            assert reads_back(b.address, store.root), boundary


def test_kill_9_at_every_step_of_transit_to_shamir_leaves_a_store_that_unseals(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    store = transit_store(tmp_path, server_a)
    old_seal = transit_block(server_a)
    migration_seal = old_seal.rstrip().removesuffix("}") + '  disabled = "true"\n}\n'
    for boundary, migrated in BOUNDARIES_FROM_TRANSIT:
        directory = tmp_path / boundary
        copy_store(store, directory / "b")
        b = node(directory, server_a, migration_seal)
        b.start()
        try:
            migrate_until(boundary, b, server_a, store, "checking the keys given against the old seal")
        finally:
            b.stop()
        assert stored_seal_type(directory / "b") == ("shamir" if migrated else "transit"), boundary
        if not migrated:
            check_old(directory, server_a, store, old_seal, migration_seal)
            continue
        with running(node(directory, server_a, "")) as b:  # Shamir: the recovery keys unseal it
            assert unseal(b.address, store.keys[1:3])["sealed"] is False, boundary
            assert reads_back(b.address, store.root), boundary
