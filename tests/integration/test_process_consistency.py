"""What one worker changes, every other worker serves on its very next request.

Data is never cached; mounts and policies are cached per process and dropped
when the storage generation counter moves; tokens are looked up every time.
Each test first makes the other worker use (and so cache) the old state.
"""

from __future__ import annotations

from tests.integration.conftest import Node

ROUNDS = 20


def test_write_through_one_worker_reads_back_through_the_other_at_once(node: Node) -> None:
    first, second = pids = node.workers()
    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        for n in range(ROUNDS):
            writer, reader = (via_first, via_second) if n % 2 == 0 else (via_second, via_first)
            written = writer.request("POST", "secret/data/shared", json={"data": {"n": n}})
            assert written.status_code == 200, written.text
            read = reader.request("GET", "secret/data/shared")
            assert read.status_code == 200, read.text
            assert read.json()["data"]["data"] == {"n": n}
            assert read.json()["data"]["metadata"]["version"] == n + 1


def test_write_on_a_fresh_connection_reads_back_on_the_next_fresh_connection(node: Node) -> None:
    for n in range(ROUNDS):
        written = node.api.request("POST", f"secret/data/fresh-{n % 3}", json={"data": {"n": n}})
        assert written.status_code == 200, written.text
        read = node.api.request("GET", f"secret/data/fresh-{n % 3}")
        assert read.json()["data"]["data"] == {"n": n}
        assert read.json()["data"]["metadata"]["version"] == written.json()["data"]["version"]


def test_mount_enabled_through_one_worker_is_routed_by_the_other_on_its_next_request(node: Node) -> None:
    first, second = pids = node.workers()
    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        assert via_second.request("GET", "kv-late/data/x").status_code == 404
        enabled = via_first.request("POST", "sys/mounts/kv-late", json={"type": "kv", "options": {"version": "2"}})
        assert enabled.status_code == 204, enabled.text
        written = via_second.request("POST", "kv-late/data/x", json={"data": {"a": "b"}})
        assert written.status_code == 200, written.text

        assert via_first.request("DELETE", "sys/mounts/kv-late").status_code == 204
        assert via_second.request("GET", "kv-late/data/x").status_code == 404


def test_policy_changed_through_one_worker_is_enforced_by_the_other_on_its_next_request(node: Node) -> None:
    first, second = pids = node.workers()
    before = 'path "secret/data/open/*" { capabilities = ["read"] }'
    after = 'path "secret/data/other/*" { capabilities = ["read"] }'
    for path in ("secret/data/open/a", "secret/data/other/a"):
        assert node.api.request("POST", path, json={"data": {"k": "v"}}).status_code == 200
    assert node.api.request("PUT", "sys/policies/acl/reader", json={"policy": before}).status_code == 204
    created = node.api.request("POST", "auth/token/create", json={"policies": ["reader"]})
    token = created.json()["auth"]["client_token"]

    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        # The second worker loads (and caches) the policy as it was.
        assert via_second.request("GET", "secret/data/open/a", token=token).status_code == 200
        assert via_second.request("GET", "secret/data/other/a", token=token).status_code == 403

        changed = via_first.request("PUT", "sys/policies/acl/reader", json={"policy": after})
        assert changed.status_code == 204, changed.text
        assert via_second.request("GET", "secret/data/open/a", token=token).status_code == 403
        assert via_second.request("GET", "secret/data/other/a", token=token).status_code == 200


def test_token_revoked_through_one_worker_is_refused_by_every_worker_at_once(node: Node) -> None:
    first, second = pids = node.workers()
    token = node.api.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]
    with node.api.pinned(first, pids) as via_first, node.api.pinned(second, pids) as via_second:
        for client in (via_first, via_second):
            assert client.request("GET", "auth/token/lookup-self", token=token["client_token"]).status_code == 200
        revoked = via_first.request("POST", "auth/token/revoke", json={"token": token["client_token"]})
        assert revoked.status_code == 204, revoked.text
        for client in (via_second, via_first):
            assert client.request("GET", "auth/token/lookup-self", token=token["client_token"]).status_code == 403
    codes = {node.api.request("GET", "auth/token/lookup-self", token=token["client_token"]).status_code
             for _ in range(10)}
    assert codes == {403}
