"""Namespaces on a two-worker node: whatever one worker creates, changes or deletes, the other serves at once."""

from __future__ import annotations

from tests.integration.conftest import Node
from tests.integration.process_harness import unseal, wait_until


def test_a_namespace_made_through_one_worker_is_served_by_the_other(node: Node) -> None:
    a, b = node.workers()
    with node.api.pinned(a, [a, b]) as first, node.api.pinned(b, [a, b]) as second:
        made = first.request("POST", "sys/namespaces/team").json()["data"]
        assert second.request("GET", "sys/namespaces/team").json()["data"] == made
        # A mount enabled inside it through b, written through a, read back through b.
        assert second.request("POST", "team/sys/mounts/kv", json={"type": "kv", "options": {"version": "2"}}
                              ).status_code == 204
        assert first.request("POST", "team/kv/data/cfg", json={"data": {"v": "1"}}).status_code == 200
        assert second.request("GET", "team/kv/data/cfg").json()["data"]["data"] == {"v": "1"}
        # A policy and a token made in the namespace through a work through b.
        policy = 'path "kv/data/*" { capabilities = ["read"] }'
        assert first.request("PUT", "team/sys/policies/acl/r", json={"policy": policy}).status_code == 204
        token = first.request("POST", "team/auth/token/create", json={"policies": ["r"]}).json()["auth"]
        assert token["client_token"].endswith("." + made["id"])
        got = second.request("GET", "team/kv/data/cfg", token=token["client_token"])
        assert got.json()["data"]["data"] == {"v": "1"}
        assert second.request("GET", "secret/data/cfg", token=token["client_token"]).status_code == 403
        # Deleted through b: gone for a on its very next request, token and all.
        assert second.request("DELETE", "sys/namespaces/team").status_code == 204
        assert first.request("GET", "team/kv/data/cfg").status_code == 404
        assert first.request("GET", "auth/token/lookup-self", token=token["client_token"]).status_code == 403
        assert first.request("GET", "sys/namespaces/team").status_code == 404


def test_namespaces_survive_a_restart_of_the_node_unchanged(node: Node) -> None:
    made = node.api.request("POST", "sys/namespaces/keep").json()["data"]
    assert node.api.request("POST", "keep/sys/mounts/kv", json={"type": "kv"}).status_code == 204
    assert node.api.request("POST", "keep/kv/x", json={"v": "1"}).status_code == 204
    node.server.stop()
    node.server.start()
    unseal(node.api, node.keys)
    assert node.api.request("GET", "sys/namespaces/keep").json()["data"] == made
    assert node.api.request("GET", "keep/kv/x").json()["data"] == {"v": "1"}


def test_the_nodes_expiry_loop_revokes_a_namespaces_expired_lease(node: Node) -> None:
    api = node.api
    made = api.request("POST", "sys/namespaces/leasing").json()["data"]
    assert api.request("POST", "leasing/sys/mounts/pki", json={"type": "pki"}).status_code == 204
    api.request("POST", "leasing/pki/root/generate/internal", json={"common_name": "NS Root", "key_type": "ec"})
    api.request("POST", "leasing/pki/roles/brief", json={
        "allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec", "generate_lease": True,
        "ttl": "2s"})
    lease_id = api.request("POST", "leasing/pki/issue/brief", json={"common_name": "a.example.com"}).json()["lease_id"]
    assert lease_id.startswith("pki/issue/brief/")
    assert lease_id.endswith("." + made["id"])
    assert api.request("PUT", "leasing/sys/leases/lookup", json={"lease_id": lease_id}).status_code == 200
    wait_until(
        lambda: api.request("PUT", "leasing/sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400,
        timeout=15, what="the namespace's expired lease to be revoked by the node",
    )
