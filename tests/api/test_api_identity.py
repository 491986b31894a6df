"""Identity over the real HTTP edge and core (in process): bad input, ACLs on identity paths, capabilities.

Bad input answers a clear 400 and stores nothing; the identity endpoints are governed by
ACL policies like any path; ``sys/capabilities-self`` reports what a templated policy gives
the caller's own identity.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.api_support import DENIED_BODY, storage_snapshot
from tests.support.inprocess import InProcessServer


def _refused(server: InProcessServer, method: str, path: str, body: dict[str, Any], message: str) -> None:
    before = storage_snapshot(server)
    reply = server.request(method, path, json=body)
    assert reply.status_code == 400, reply.text
    (error,) = reply.json()["errors"]
    assert message in error
    assert storage_snapshot(server) == before


def _userpass(server: InProcessServer, path: str = "userpass") -> str:
    assert server.request("POST", f"sys/auth/{path}", json={"type": "userpass"}).status_code == 204
    accessor: str = server.request("GET", "sys/auth").json()["data"][f"{path}/"]["accessor"]
    return accessor


def _login(server: InProcessServer, user: str, mount: str = "userpass") -> dict[str, Any]:
    server.request("POST", f"auth/{mount}/users/{user}", json={"password": "pw"})
    reply = server.request("POST", f"auth/{mount}/login/{user}", token="", json={"password": "pw"})
    assert reply.status_code == 200, reply.text
    auth: dict[str, Any] = reply.json()["auth"]
    return auth


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("identity/entity/id/00000000-0000-4000-8000-000000000000", {"policies": ["x"]}, "entity not found from id"),
        ("identity/group", {"name": "g", "type": "sideways"}, "invalid group type"),
        ("identity/group", {"name": "g", "member_entity_ids": ["nope"]}, "does not exist"),
        ("identity/group", {"name": "g", "type": "external", "member_entity_ids": ["nope"]}, "can't be set manually"),
        ("identity/entity-alias", {"name": "a", "mount_accessor": "auth_none_0"}, "invalid mount accessor"),
        ("identity/lookup/entity", {"name": "a", "id": "b"}, "exactly one of"),
        ("identity/lookup/entity", {"alias_name": "a"}, "must be set"),
        ("identity/entity/merge", {"from_entity_ids": ["a"]}, "'to_entity_id' is missing"),
        ("identity/entity/merge", {"from_entity_ids": ["a"], "to_entity_id": "b", "force": True}, "not supported"),
        ("identity/entity", {"name": "n", "metadata": "not-a-map"}, "metadata"),
        ("sys/policies/acl/bad", {"policy": 'path "secret/{{identity.entity.secret}}" { capabilities = ["read"] }'},
         "unsupported template expression"),
        ("sys/policies/acl/bad", {"policy": 'path "secret/{{identity.entity.id}" { capabilities = ["read"] }'},
         "unbalanced"),
    ],
)
def test_bad_input_is_a_clear_400_and_stores_nothing(
    server: InProcessServer, path: str, body: dict[str, Any], message: str
) -> None:
    _refused(server, "POST", path, body, message)


def test_alias_metadata_comes_from_the_auth_method_only(server: InProcessServer) -> None:
    accessor = _userpass(server)
    entity = server.request("POST", "identity/entity", json={"name": "e"}).json()["data"]
    _refused(server, "POST", "identity/entity-alias",
             {"name": "x", "mount_accessor": accessor, "canonical_id": entity["id"], "metadata": {"a": "b"}},
             "custom_metadata")


def test_identity_paths_are_governed_by_acl_policies(server: InProcessServer) -> None:
    server.request("PUT", "sys/policies/acl/reader", json={
        "policy": 'path "identity/entity/id/*" { capabilities = ["read"] }'})
    token = server.request("POST", "auth/token/create", json={"policies": ["reader"]}).json()["auth"]["client_token"]
    entity = server.request("POST", "identity/entity", json={"name": "visible"}).json()["data"]
    assert server.request("GET", f"identity/entity/id/{entity['id']}", token=token).status_code == 200
    for method, path, body in (("POST", "identity/entity", {"name": "mine", "policies": ["root"]}),
                               ("POST", f"identity/entity/id/{entity['id']}", {"policies": ["admin"]}),
                               ("POST", "identity/group", {"name": "g", "policies": ["admin"]}),
                               ("DELETE", f"identity/entity/id/{entity['id']}", None),
                               ("LIST", "identity/entity/id", None)):
        reply = server.request(method, path, token=token, json=body)
        assert (reply.status_code, reply.json()) == (403, DENIED_BODY)
    assert server.request("GET", f"identity/entity/id/{entity['id']}").json()["data"]["policies"] == []


def test_capabilities_self_reports_the_templated_grant_of_the_callers_own_identity(server: InProcessServer) -> None:
    accessor = _userpass(server)
    template = f"{{{{identity.entity.aliases.{accessor}.name}}}}"
    server.request("PUT", "sys/policies/acl/own", json={
        "policy": f'path "secret/data/{template}/*" {{ capabilities = ["read", "update"] }}'})
    auth = _login(server, "ivy")
    server.request("POST", f"identity/entity/id/{auth['entity_id']}", json={"policies": ["own"]})
    token = auth["client_token"]

    def capabilities(path: str) -> list[str]:
        reply = server.request("POST", "sys/capabilities-self", token=token, json={"paths": [path]})
        assert reply.status_code == 200, reply.text
        found: list[str] = reply.json()["data"][path]
        return found

    assert capabilities("secret/data/ivy/x") == ["read", "update"]
    assert capabilities("secret/data/jim/x") == ["deny"]
    looked_up = server.request("GET", "auth/token/lookup-self", token=token).json()["data"]
    assert (looked_up["entity_id"], looked_up["identity_policies"], looked_up["policies"]) == (
        auth["entity_id"], ["own"], ["default"])


def test_an_entity_deleted_leaves_its_tokens_their_own_policies(server: InProcessServer) -> None:
    _userpass(server)
    server.request("PUT", "sys/policies/acl/extra", json={"policy": 'path "secret/data/*" { capabilities = ["read"] }'})
    server.request("POST", "secret/data/app", json={"data": {"k": "v"}})
    auth = _login(server, "kim")
    server.request("POST", f"identity/entity/id/{auth['entity_id']}", json={"policies": ["extra"]})
    token = auth["client_token"]
    assert server.request("GET", "secret/data/app", token=token).status_code == 200
    assert server.request("DELETE", f"identity/entity/id/{auth['entity_id']}").status_code == 204
    assert server.request("GET", "secret/data/app", token=token).status_code == 403
    assert server.request("GET", "auth/token/lookup-self", token=token).status_code == 200
    # The next login makes a new entity for the principal.
    again = server.request("POST", "auth/userpass/login/kim", token="", json={"password": "pw"}).json()["auth"]
    assert again["entity_id"] not in ("", auth["entity_id"])


def test_child_tokens_carry_the_entity_and_its_identity_policies(server: InProcessServer) -> None:
    _userpass(server)
    server.request("PUT", "sys/policies/acl/maker", json={
        "policy": 'path "auth/token/create" { capabilities = ["update"] }'})
    auth = _login(server, "lee")
    server.request("POST", f"identity/entity/id/{auth['entity_id']}", json={"policies": ["maker"]})
    child = server.request("POST", "auth/token/create", token=auth["client_token"],
                           json={"policies": ["default"]})
    assert child.status_code == 200, child.text
    assert child.json()["auth"]["entity_id"] == auth["entity_id"]
    looked_up = server.request("GET", "auth/token/lookup-self", token=child.json()["auth"]["client_token"])
    assert looked_up.json()["data"]["identity_policies"] == ["maker"]


def test_answers_name_the_namespace_of_the_identity_store(server: InProcessServer) -> None:
    created = server.request("POST", "sys/namespaces/team")
    assert created.status_code == 200, created.text
    namespace_id = created.json()["data"]["id"]
    inside = {"X-Vault-Namespace": "team"}
    entity = server.request("POST", "identity/entity", headers=inside, json={"name": "n"}).json()["data"]
    read = server.request("GET", f"identity/entity/id/{entity['id']}", headers=inside).json()["data"]
    assert read["namespace_id"] == namespace_id != "root"
    group = server.request("POST", "identity/group", headers=inside, json={"name": "g"}).json()["data"]
    assert server.request("GET", f"identity/group/id/{group['id']}", headers=inside).json()["data"][
        "namespace_id"] == namespace_id
    root_entity = server.request("POST", "identity/entity", json={"name": "r"}).json()["data"]
    assert server.request("GET", f"identity/entity/id/{root_entity['id']}").json()["data"]["namespace_id"] == "root"


def test_the_default_policy_lets_a_token_read_its_own_entity_only(server: InProcessServer) -> None:
    _userpass(server)
    mine = _login(server, "max")
    other = _login(server, "ned")
    names = {}
    for auth in (mine, other):
        names[auth["entity_id"]] = server.request("GET", f"identity/entity/id/{auth['entity_id']}").json()["data"][
            "name"]
    token = mine["client_token"]
    own = server.request("GET", f"identity/entity/id/{mine['entity_id']}", token=token)
    assert own.status_code == 200
    assert own.json()["data"]["id"] == mine["entity_id"]
    assert server.request("GET", f"identity/entity/name/{names[mine['entity_id']]}", token=token).status_code == 200
    for path in (f"identity/entity/id/{other['entity_id']}", f"identity/entity/name/{names[other['entity_id']]}"):
        reply = server.request("GET", path, token=token)
        assert (reply.status_code, reply.json()) == (403, DENIED_BODY)
    plain = server.request("POST", "auth/token/create", json={"policies": ["default"]}).json()["auth"]["client_token"]
    assert server.request("GET", f"identity/entity/id/{mine['entity_id']}", token=plain).status_code == 403
