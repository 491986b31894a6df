"""The crash test: acknowledged KV v2 writes survive ``kill -9`` of the whole node, repeatedly.

Eight client threads write while the supervisor (and with it every worker) is
killed at a random moment. Each client writes successive versions of its own
secrets and, with check-and-set, of secrets all clients share, each on a fresh
connection so both workers take part. After every restart and unseal, every
write that was answered 2xx must read back exactly: the same value at the
version the answer named, and no two acknowledged writes may claim the same
version of a secret. Writes that failed or got no answer may or may not be
there; nothing may be corrupt, and the node must unseal.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.integration.process_harness import (
    Api,
    enable_kv2,
    initialize,
    is_alive,
    port_is_free,
    server_port,
    unseal,
    wait_until,
    worker_pids,
)
from tests.support.server import ServerProcess, sqlite_server_process

ROUNDS = 6
CLIENTS = 8
SHARED_SECRETS = ("shared-0", "shared-1", "shared-2")
OWN_SECRETS_PER_CLIENT = 2
#: How long clients write before the kill, per round (seconds).
WRITE_WINDOW = (0.3, 1.2)
CAS_MISMATCH = "check-and-set parameter did not match the current version"
WRITTEN_VALUE = re.compile(r"client \d+ round \d+ write \d+")


@dataclass
class Ledger:
    """Every acknowledged write, by (secret, version); and anything that must never happen."""

    acked: dict[tuple[str, int], str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, secret: str, version: int, value: str) -> None:
        with self.lock:
            earlier = self.acked.setdefault((secret, version), value)
            if earlier != value:
                self.violations.append(f"two writes acknowledged as {secret} v{version}")

    def violation(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    def error(self) -> None:
        with self.lock:
            self.errors += 1


class Writer(threading.Thread):
    """One client: alternates a plain write of its own secret and a CAS write of a shared one."""

    def __init__(self, index: int, round_no: int, api: Api, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__(name=f"writer-{index}")
        self.index = index
        self.round_no = round_no
        self.api = api
        self.ledger = ledger
        self.stop = stop
        self.rng = random.Random(f"{index}-{round_no}")

    def run(self) -> None:
        # No keep-alive: every request is a new connection, which either worker may accept.
        with httpx.Client(base_url=self.api.address, timeout=5, headers=self.api.headers(None),
                          limits=httpx.Limits(max_keepalive_connections=0)) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                value = f"client {self.index} round {self.round_no} write {n}"
                try:
                    if n % 2:
                        self.write_own(client, n, value)
                    else:
                        self.write_shared(client, value)
                except httpx.HTTPError:
                    # The node is going down (or is down): no answer, no claim.
                    self.ledger.error()
                    time.sleep(0.02)

    def write_own(self, client: httpx.Client, n: int, value: str) -> None:
        secret = f"own-{self.index}-{n % OWN_SECRETS_PER_CLIENT}"
        self.record(secret, value, client.post(f"/v1/secret/data/{secret}", json={"data": {"v": value}}))

    def write_shared(self, client: httpx.Client, value: str) -> None:
        secret = self.rng.choice(SHARED_SECRETS)
        meta = client.get(f"/v1/secret/metadata/{secret}")
        if meta.status_code not in (200, 404):
            self.ledger.error()
            return
        current = meta.json()["data"]["current_version"] if meta.status_code == 200 else 0
        body = {"data": {"v": value}, "options": {"cas": current}}
        response = client.post(f"/v1/secret/data/{secret}", json=body)
        if response.status_code == 400 and CAS_MISMATCH in response.text:
            return  # another client got there first: a refusal, not a loss
        self.record(secret, value, response)

    def record(self, secret: str, value: str, response: httpx.Response) -> None:
        if response.status_code == 200:
            self.ledger.ack(secret, int(response.json()["data"]["version"]), value)
        elif 400 <= response.status_code < 500:
            self.ledger.violation(f"{secret}: unexpected {response.status_code} {response.text[:200]}")
        else:
            self.ledger.error()


def verify(api: Api, ledger: Ledger) -> None:
    """Every version of every secret reads back whole; the acknowledged ones hold exactly what was acked.

    No write in this test deletes, and the mount keeps every version, so each
    secret's versions must run 1..current_version without a gap. A version no
    client saw acknowledged (its answer was lost in a kill) must still be one
    of the clients' writes, not something torn or foreign.
    """
    newest: dict[str, int] = {}
    for secret, version in ledger.acked:
        newest[secret] = max(version, newest.get(secret, 0))
    with httpx.Client(base_url=api.address, timeout=10, headers=api.headers(None)) as client:
        for secret, acked_newest in sorted(newest.items()):
            meta = client.get(f"/v1/secret/metadata/{secret}")
            assert meta.status_code == 200, f"{secret}: {meta.status_code} {meta.text[:200]}"
            current = meta.json()["data"]["current_version"]
            assert current >= acked_newest, f"{secret}: v{acked_newest} was acknowledged, the newest is v{current}"
            assert sorted(map(int, meta.json()["data"]["versions"])) == list(range(1, current + 1)), secret
            for version in range(1, current + 1):
                read = client.get(f"/v1/secret/data/{secret}", params={"version": version})
                assert read.status_code == 200, f"{secret} v{version}: {read.status_code} {read.text[:200]}"
                data = read.json()["data"]
                assert data["metadata"]["version"] == version
                expected = ledger.acked.get((secret, version))
                if expected is not None:
                    assert data["data"] == {"v": expected}, f"{secret} v{version} reads back something else"
                else:
                    assert WRITTEN_VALUE.fullmatch(str(data["data"].get("v"))), f"{secret} v{version} is foreign"


def kill_and_wait(server: ServerProcess) -> None:
    """``kill -9`` the supervisor; its workers die with it and the port frees up."""
    workers = worker_pids(server, 2)
    server.kill9()
    wait_until(lambda: not any(is_alive(pid) for pid in workers), 5, "the workers to die with the supervisor")
    wait_until(lambda: port_is_free(server_port(server)), 5, "the port to be free")


def write_until_killed(server: ServerProcess, api: Api, ledger: Ledger, round_no: int, seconds: float) -> None:
    """Run the clients for ``seconds``, then kill the node under them; returns once every client stopped."""
    stop = threading.Event()
    writers = [Writer(i, round_no, api, ledger, stop) for i in range(CLIENTS)]
    for writer in writers:
        writer.start()
    try:
        time.sleep(seconds)
        kill_and_wait(server)
    finally:
        stop.set()
        for writer in writers:
            writer.join(10)
    assert not any(writer.is_alive() for writer in writers)


def test_acknowledged_kv_writes_survive_repeated_kill_9_of_the_node(tmp_path: Path) -> None:
    server = sqlite_server_process(tmp_path, workers=2)
    ledger = Ledger()
    server.start()
    try:
        api = Api(server.address)
        keys = initialize(api)
        unseal(api, keys)
        api.token = keys.root_token
        enable_kv2(api)
        # Keep every version, so every acknowledged one can be read back.
        assert api.request("POST", "secret/config", json={"max_versions": 100000}).status_code == 204

        for round_no in range(ROUNDS):
            write_until_killed(server, api, ledger, round_no, random.uniform(*WRITE_WINDOW))
            server.start()
            unseal(api, keys)
            assert not ledger.violations, f"round {round_no}: {ledger.violations[:5]}"
            verify(api, ledger)
        assert len(ledger.acked) > ROUNDS * CLIENTS, f"only {len(ledger.acked)} writes acknowledged"
    finally:
        server.stop()
