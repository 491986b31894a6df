"""Token leases in a supervisor's node: the expiry loop (worker 0) revokes an expired token and its
children without anyone presenting them."""

from __future__ import annotations

import time

from tests.integration.conftest import Node


def _token_leases(node: Node) -> list[str]:
    answer = node.api.request("LIST", "sys/leases/lookup/auth/token/create/")
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    keys: list[str] = answer.json()["data"]["keys"]
    return keys


def test_an_expired_token_and_its_children_are_revoked_by_the_node(node: Node) -> None:
    api = node.api
    parent = api.request("POST", "auth/token/create", json={"policies": ["root"], "ttl": "2s"})
    assert parent.status_code == 200, parent.text
    parent_token = parent.json()["auth"]["client_token"]
    child = api.request("POST", "auth/token/create", token=parent_token, json={"policies": ["root"], "ttl": "1h"})
    assert child.status_code == 200, child.text
    child_token = child.json()["auth"]["client_token"]
    assert len(_token_leases(node)) == 2
    deadline = time.monotonic() + 20
    while _token_leases(node):
        assert time.monotonic() < deadline, "the expired token's lease was never revoked"
        time.sleep(0.2)
    # Only now is either token presented: both are gone, the child (1h TTL) with its parent.
    assert api.request("GET", "auth/token/lookup-self", token=child_token).status_code == 403
    assert api.request("GET", "auth/token/lookup-self", token=parent_token).status_code == 403
