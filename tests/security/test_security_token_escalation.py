"""SECURITY.md escalation rows for tokens: a child never holds more than its parent, a revoked
parent takes its children with it, and a limited-use token is used up exactly on schedule
(even under concurrent use)."""

from __future__ import annotations

import asyncio

import pytest
from tests.api.api_support import create_token, storage_snapshot, write_policy
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock

CREATOR = 'path "auth/token/create" { capabilities = ["update"] }'
TEAM = 'path "secret/data/team/*" { capabilities = ["read", "create", "update"] }'
ADMIN = 'path "sys/*" { capabilities = ["read", "update", "create", "delete", "list", "sudo"] }'


@pytest.fixture
def parent(server: InProcessServer) -> str:
    write_policy(server, "creator", CREATOR)
    write_policy(server, "team", TEAM)
    write_policy(server, "admin", ADMIN)
    assert server.request("POST", "secret/data/team/a", json={"data": {"k": "v"}}).status_code == 200
    return create_token(server, policies=["creator", "team"])


def policies_of(server: InProcessServer, token: str) -> list[str]:
    data = server.request("GET", "auth/token/lookup-self", token=token).json()["data"]
    names: list[str] = data["policies"]
    return names


@pytest.mark.parametrize(
    "requested",
    [["admin"], ["team", "admin"], "team,admin", ["root"], [" Admin "], ["ADMIN", "team"], ["response-wrapping"]],
)
def test_child_cannot_get_a_policy_its_parent_lacks(server: InProcessServer, parent: str, requested: object) -> None:
    before = storage_snapshot(server)
    for path in ("auth/token/create", "auth/token/create-orphan"):
        reply = server.request("POST", path, token=parent, json={"policies": requested})
        assert reply.status_code in (400, 403), (path, reply.text)
        assert "client_token" not in reply.text
    assert storage_snapshot(server) == before


def test_child_asking_for_a_subset_gets_exactly_that(server: InProcessServer, parent: str) -> None:
    child = create_token(server, token=parent, policies=[" Team "])
    assert policies_of(server, child) == ["default", "team"]
    assert server.request("GET", "secret/data/team/a", token=child).status_code == 200
    assert server.request("POST", "auth/token/create", token=child, json={}).status_code == 403


def test_child_without_a_policy_list_inherits_the_parents_and_nothing_more(
    server: InProcessServer, parent: str
) -> None:
    child = create_token(server, token=parent)
    assert policies_of(server, child) == policies_of(server, parent)
    assert server.request("GET", "sys/mounts", token=child).status_code == 403


def test_non_sudo_parent_cannot_create_orphans_or_pick_ids_or_periods(server: InProcessServer, parent: str) -> None:
    before = storage_snapshot(server)
    for fields in ({"no_parent": True}, {"id": "chosen-token-id"}, {"period": "1h"}):
        reply = server.request("POST", "auth/token/create", token=parent, json=fields)
        assert reply.status_code == 400, (fields, reply.text)
    assert server.request("POST", "auth/token/create-orphan", token=parent, json={}).status_code == 403
    assert storage_snapshot(server) == before


def test_revoking_a_parent_kills_every_descendant(server: InProcessServer, parent: str) -> None:
    child = create_token(server, token=parent, policies=["team", "creator"])
    grandchild = create_token(server, token=child, policies=["team"])
    assert server.request("POST", "auth/token/revoke", json={"token": parent}).status_code == 204
    for token in (parent, child, grandchild):
        assert server.request("GET", "secret/data/team/a", token=token).status_code == 403


def test_a_child_outliving_its_expired_parent_is_refused(
    server: InProcessServer, parent: str, clock: ManualClock
) -> None:
    short = create_token(server, policies=["creator", "team"], ttl="10s")
    child = create_token(server, token=short, policies=["team"], ttl="1h")
    clock.advance(11)
    assert server.request("GET", "secret/data/team/a", token=short).status_code == 403
    assert server.request("GET", "secret/data/team/a", token=child).status_code == 403


def test_a_token_with_one_use_works_exactly_once(server: InProcessServer, parent: str) -> None:
    token = create_token(server, policies=["team"], num_uses=1)
    first = server.request("GET", "secret/data/team/a", token=token)
    assert first.status_code == 200
    for method, path in (("GET", "secret/data/team/a"), ("GET", "auth/token/lookup-self")):
        assert server.request(method, path, token=token).status_code == 403


def test_a_token_with_three_uses_works_exactly_three_times(server: InProcessServer, parent: str) -> None:
    token = create_token(server, policies=["team"], num_uses=3)
    statuses = [server.request("GET", "secret/data/team/a", token=token).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 403, 403]


def test_concurrent_requests_cannot_use_a_one_use_token_twice(server: InProcessServer, parent: str) -> None:
    token = create_token(server, policies=["team"], num_uses=1)

    async def burst() -> list[int]:
        replies = await asyncio.gather(
            *(server.client.get("/v1/secret/data/team/a", headers={"X-Vault-Token": token}) for _ in range(20))
        )
        return [r.status_code for r in replies]

    statuses = server.run(burst())
    assert statuses.count(200) == 1
    assert statuses.count(403) == 19


def test_a_limited_use_token_cannot_escape_its_count_through_children(server: InProcessServer, parent: str) -> None:
    token = create_token(server, token=parent, policies=["team", "creator"], num_uses=2)
    reply = server.request("POST", "auth/token/create", token=token, json={"policies": ["team"]})
    assert reply.status_code == 400
    assert "client_token" not in reply.text
