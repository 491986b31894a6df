"""Identity across a node's two worker processes (SQLite shared storage).

* The first logins of one principal through both workers at the same moment make one
  entity with one alias (storage preconditions, not per-process locks, decide).
* A change made through one worker (a group's policies, an entity's metadata read by a
  templated policy, an entity disabled) is in force on the other worker's next request.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from tests.integration.conftest import Node
from tests.integration.process_harness import PinnedClient

ROUNDS = 6


def _login_together(first: PinnedClient, second: PinnedClient, mount: str, user: str) -> list[httpx.Response]:
    start = threading.Barrier(2)

    def login(via: PinnedClient) -> httpx.Response:
        start.wait()
        return via.request("POST", f"auth/{mount}/login/{user}", token="", json={"password": "pw"})

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(login, [first, second]))


def test_racing_first_logins_on_two_workers_make_one_entity(node: Node) -> None:
    api = node.api
    assert api.request("POST", "sys/auth/userpass", json={"type": "userpass"}).status_code == 204
    accessor = api.request("GET", "sys/auth").json()["data"]["userpass/"]["accessor"]
    users = [f"user{i}" for i in range(ROUNDS)]
    for user in users:
        api.request("POST", f"auth/userpass/users/{user}", json={"password": "pw"})
    first, second = node.workers()
    pids = [first, second]
    with api.pinned(first, pids) as via_first, api.pinned(second, pids) as via_second:
        for user in users:
            answers = _login_together(via_first, via_second, "userpass", user)
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            entity_ids = {a.json()["auth"]["entity_id"] for a in answers}
            assert len(entity_ids) == 1
            found = api.request("POST", "identity/lookup/entity",
                                json={"alias_name": user, "alias_mount_accessor": accessor}).json()["data"]
            assert found["id"] in entity_ids
            assert [alias["name"] for alias in found["aliases"]] == [user]
    listed = api.request("LIST", "identity/entity/id").json()["data"]["keys"]
    assert len(listed) == ROUNDS


def test_identity_changes_through_one_worker_apply_on_the_other_at_once(node: Node) -> None:
    api = node.api
    api.request("POST", "sys/auth/userpass", json={"type": "userpass"})
    api.request("POST", "auth/userpass/users/hana", json={"password": "pw"})
    for team in ("red", "blue"):
        api.request("POST", f"secret/data/{team}/db", json={"data": {"team": team}})
    api.request("PUT", "sys/policies/acl/by-team", json={
        "policy": 'path "secret/data/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }'})
    api.request("PUT", "sys/policies/acl/shared", json={
        "policy": 'path "secret/data/red/*" { capabilities = ["read"] }'})
    first, second = node.workers()
    pids = [first, second]
    with api.pinned(first, pids) as via_first, api.pinned(second, pids) as via_second:
        login = via_second.request("POST", "auth/userpass/login/hana", token="", json={"password": "pw"})
        token, entity_id = login.json()["auth"]["client_token"], login.json()["auth"]["entity_id"]
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 403
        # A group with a policy, made through the first worker: the second serves it next request.
        group = via_first.request("POST", "identity/group", json={
            "name": "readers", "policies": ["shared"], "member_entity_ids": [entity_id]}).json()["data"]
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 200
        via_first.request("POST", f"identity/group/id/{group['id']}", json={"policies": []})
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 403
        # The entity's metadata feeds a templated policy; each change is in force at once.
        via_first.request("POST", f"identity/entity/id/{entity_id}",
                          json={"policies": ["by-team"], "metadata": {"team": "blue"}})
        assert via_second.request("GET", "secret/data/blue/db", token=token).status_code == 200
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 403
        via_first.request("POST", f"identity/entity/id/{entity_id}", json={"metadata": {"team": "red"}})
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 200
        assert via_second.request("GET", "secret/data/blue/db", token=token).status_code == 403
        looked_up = via_second.request("GET", "auth/token/lookup-self", token=token).json()["data"]
        assert looked_up["identity_policies"] == ["by-team"]
        # Disabled through one worker: refused by the other.
        via_first.request("POST", f"identity/entity/id/{entity_id}", json={"disabled": True})
        assert via_second.request("GET", "secret/data/red/db", token=token).status_code == 403
        assert via_second.request("GET", "auth/token/lookup-self", token=token).status_code == 403
