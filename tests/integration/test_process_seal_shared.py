"""The node's seal is one state, whichever worker a request reaches.

The supervisor owns the seal; workers forward init/unseal/seal to it, and it
hands (or takes) the root key to every worker before the call returns. These
tests send each step to a chosen worker (see ``process_harness``) and check
every worker, over connections opened before and after the change.
"""

from __future__ import annotations

from tests.integration.conftest import WORKERS, Node
from tests.integration.process_harness import Api, initialize, worker_pids
from tests.support.server import ServerProcess

FRESH_REQUESTS = 50


def test_shares_given_to_different_workers_unseal_every_worker(server: ServerProcess) -> None:
    api = Api(server.address)
    keys = initialize(api)
    first, second = pids = worker_pids(server, WORKERS)

    with api.pinned(first, pids) as via_first, api.pinned(second, pids) as via_second:
        progress = via_first.request("PUT", "sys/unseal", json={"key": keys.keys[0]}).json()
        assert (progress["sealed"], progress["progress"]) == (True, 1)
        # The other worker sees the same progress: shares are collected in one place.
        assert via_second.request("GET", "sys/seal-status").json()["progress"] == 1

        done = via_second.request("PUT", "sys/unseal", json={"key": keys.keys[1]}).json()
        assert (done["sealed"], done["progress"]) == (False, 0)
        # The first worker got the key before the unseal call returned: no wait here.
        mounts = via_first.request("GET", "sys/mounts", token=keys.root_token)
        assert mounts.status_code == 200, mounts.text

    root = Api(server.address, keys.root_token)
    codes = [root.request("GET", "sys/mounts").status_code for _ in range(FRESH_REQUESTS)]
    assert codes == [200] * FRESH_REQUESTS


def test_seal_through_one_worker_seals_every_worker_before_it_returns(node: Node) -> None:
    first, second = pids = node.workers()
    assert node.api.request("POST", "secret/data/before-seal", json={"data": {"a": "1"}}).status_code == 200

    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        assert via_second.request("GET", "secret/data/before-seal").status_code == 200
        assert via_first.request("PUT", "sys/seal").status_code == 204
        # Asked at once on a connection the other worker accepted before the seal.
        sealed = via_second.request("GET", "secret/data/before-seal")
        assert sealed.status_code == 503
        assert sealed.json() == {"errors": ["Vault is sealed"]}
        assert via_second.request("GET", "sys/seal-status").json()["sealed"] is True

    codes = [node.api.request("GET", "secret/data/before-seal").status_code for _ in range(FRESH_REQUESTS)]
    assert codes == [503] * FRESH_REQUESTS


def test_node_sealed_through_one_worker_unseals_through_the_other(node: Node) -> None:
    first, second = pids = node.workers()
    with node.api.pinned(first, pids) as via_first:
        assert via_first.request("PUT", "sys/seal").status_code == 204
    with node.api.pinned(second, pids) as via_second:
        for key in node.keys.keys[:2]:
            assert via_second.request("PUT", "sys/unseal", json={"key": key}).status_code == 200
    with node.api.pinned(first, pids) as via_first:
        assert via_first.request("POST", "secret/data/after", json={"data": {"a": "2"}}).status_code == 200


def test_keyring_rotated_through_one_worker_is_in_use_by_every_worker_before_it_returns(node: Node) -> None:
    first, second = pids = node.workers()
    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        assert via_second.request("GET", "sys/key-status").json()["term"] == 1
        assert via_first.request("PUT", "sys/rotate").status_code == 204
        for client in (via_second, via_first):
            assert client.request("GET", "sys/key-status").json()["term"] == 2
        # Written under the new term by one worker, read by the other.
        assert via_second.request("POST", "secret/data/rotated", json={"data": {"t": "2"}}).status_code == 200
        read = via_first.request("GET", "secret/data/rotated")
        assert read.status_code == 200, read.text
        assert read.json()["data"]["data"] == {"t": "2"}
