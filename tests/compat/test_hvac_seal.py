"""hvac's init / seal / unseal / health / leader / key-rotation API against a real SQLite server with two workers.

The supervisor owns the seal; workers forward to it. Pinning requests to one worker (by stopping the other)
shows that unseal progress, the unsealed state, sealing and the rotated keyring are the node's, not a
worker's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, pinned_client, worker_pids
from tests.support.server import ServerProcess, running, sqlite_server_process

WORKERS = 2


@dataclass
class Node:
    server: ServerProcess
    keys: list[str]
    root_token: str
    workers: list[int]

    def root(self) -> hvac.Client:
        return client(self.server.address, self.root_token)

    def unsealed(self) -> hvac.Client:
        root = self.root()
        if root.sys.is_sealed():
            root.sys.submit_unseal_key(reset=True)
            assert root.sys.submit_unseal_keys(self.keys[:3])["sealed"] is False
        return root

    def sealed(self) -> hvac.Client:
        root = self.root()
        if not root.sys.is_sealed():
            root.sys.seal()
        return root


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(sqlite_server_process(tmp_path_factory.mktemp("seal"), workers=WORKERS)) as server:
        answer = client(server.address).sys.initialize(secret_shares=5, secret_threshold=3)
        yield Node(server, answer["keys"], answer["root_token"], worker_pids(server, WORKERS))


def health(address: str, **overrides: object) -> tuple[int, dict[str, object]]:
    answer = client(address).sys.read_health_status(method="GET", **overrides)
    if isinstance(answer, dict):  # hvac decodes only 200 answers
        return 200, answer
    return answer.status_code, answer.json()


def test_fresh_server_initialises_with_five_shares_and_threshold_three(tmp: Path) -> None:
    with running(sqlite_server_process(tmp, workers=WORKERS)) as server:
        anonymous = client(server.address)
        assert anonymous.sys.is_initialized() is False
        status = anonymous.sys.read_seal_status()
        assert (status["initialized"], status["sealed"], status["type"]) == (False, True, "shamir")
        assert health(server.address)[0] == 501
        assert health(server.address, uninit_code=299)[0] == 299

        answer = anonymous.sys.initialize(secret_shares=5, secret_threshold=3)
        assert len(answer["keys"]) == len(answer["keys_base64"]) == 5
        assert len(set(answer["keys"])) == 5
        assert all(bytes.fromhex(key) for key in answer["keys"])
        assert answer["root_token"].startswith("hvs.")
        assert anonymous.sys.is_initialized() is True
        status = anonymous.sys.read_seal_status()
        assert (status["sealed"], status["t"], status["n"], status["progress"]) == (True, 3, 5, 0)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="Vault is already initialized"):
            anonymous.sys.initialize(secret_shares=1, secret_threshold=1)


def test_unseal_progress_is_the_nodes_across_workers_and_reset_clears_it(node: Node) -> None:
    node.sealed()
    first, second = node.workers
    status = pinned_client(node.server, node.workers, first).sys.submit_unseal_key(node.keys[0])
    assert (status["sealed"], status["progress"], status["t"], status["n"]) == (True, 1, 3, 5)
    nonce = status["nonce"]
    assert nonce
    status = pinned_client(node.server, node.workers, second).sys.submit_unseal_key(node.keys[1])
    assert (status["progress"], status["nonce"]) == (2, nonce)
    on_first = pinned_client(node.server, node.workers, first)
    status = on_first.sys.submit_unseal_key(reset=True)
    assert (status["sealed"], status["progress"]) == (True, 0)
    assert on_first.sys.read_seal_status()["progress"] == 0

    # Any three of the five shares unseal, submitted over separate connections.
    for key in node.keys[2:4]:
        assert client(node.server.address).sys.submit_unseal_key(key)["sealed"] is True
    status = client(node.server.address).sys.submit_unseal_key(node.keys[0])
    assert (status["sealed"], status["progress"]) == (False, 0)


def test_every_worker_serves_once_unsealed_and_none_once_sealed(node: Node) -> None:
    node.unsealed()
    pinned = [pinned_client(node.server, node.workers, worker, node.root_token) for worker in node.workers]
    for each in pinned:
        assert each.auth.token.lookup_self()["data"]["policies"] == ["root"]
    node.root().sys.seal()
    for each in pinned:  # the same connections, opened while unsealed
        assert each.sys.is_sealed() is True
        with pytest.raises(hvac.exceptions.VaultDown, match="Vault is sealed"):
            each.auth.token.lookup_self()


def test_health_codes_follow_the_seal_and_honour_query_overrides(node: Node) -> None:
    node.sealed()
    code, body = health(node.server.address)
    assert (code, body["initialized"], body["sealed"], body["standby"]) == (503, True, True, False)
    assert health(node.server.address, sealed_code=299)[0] == 299
    assert health(node.server.address, standby_ok=True)[0] == 503  # standbyok does not hide a seal

    node.unsealed()
    code, body = health(node.server.address)
    assert (code, body["sealed"]) == (200, False)
    assert {"version", "cluster_name", "cluster_id", "server_time_utc", "performance_standby"} <= set(body)
    assert health(node.server.address, active_code=218)[0] == 218
    assert health(node.server.address, standby_ok=True, sealed_code=299)[0] == 200
    head = client(node.server.address).sys.read_health_status(method="HEAD")
    assert (head.status_code, head.content) == (200, b"")


def test_leader_status_reports_a_node_without_ha(node: Node) -> None:
    status = node.unsealed().sys.read_leader_status()
    assert status["ha_enabled"] is False
    assert status["is_self"] is False  # as Vault without HA: nobody holds leadership
    assert status["leader_address"] == ""


def test_key_rotation_keeps_old_secrets_readable_on_every_worker(node: Node) -> None:
    root = node.unsealed()
    if "rot/" not in root.sys.list_mounted_secrets_engines()["data"]:
        root.sys.enable_secrets_engine("kv", path="rot", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret("before", {"v": "old"}, mount_point="rot")
    term = root.sys.get_encryption_key_status()["data"]["term"]

    root.sys.rotate_encryption_key()
    for worker in node.workers:
        pinned = pinned_client(node.server, node.workers, worker, node.root_token)
        status = pinned.sys.get_encryption_key_status()
        assert status["term"] == status["data"]["term"] == term + 1
        old = pinned.secrets.kv.v2.read_secret_version("before", mount_point="rot", raise_on_deleted_version=True)
        assert old["data"]["data"] == {"v": "old"}
    root.secrets.kv.v2.create_or_update_secret("after", {"v": "new"}, mount_point="rot")

    node.sealed()
    root = node.unsealed()
    assert root.sys.get_encryption_key_status()["data"]["term"] == term + 1
    kv = root.secrets.kv.v2
    assert kv.read_secret_version("before", mount_point="rot", raise_on_deleted_version=True)["data"]["data"] == {
        "v": "old"
    }
    assert kv.read_secret_version("after", mount_point="rot", raise_on_deleted_version=True)["data"]["data"] == {
        "v": "new"
    }
