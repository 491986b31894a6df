"""Namespaces through the whole request path: the table, routing, and isolation of everything they own."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from leases_harness import Target
from tests.api.api_support import DENIED_BODY
from tests.support.inprocess import InProcessServer

from strongroom.core.quotas.enforcer import QuotaEnforcer
from strongroom.crypto.view import StorageView
from strongroom.sdk.system import ManualClock

READ_ALL = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'


def ns(name: str) -> dict[str, str]:
    return {"X-Vault-Namespace": name}


def ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json() if reply.content else None


def make(srv: InProcessServer, path: str, within: str = "", **body: Any) -> dict[str, Any]:
    data: dict[str, Any] = ok(srv.request("POST", f"sys/namespaces/{path}", headers=ns(within), json=body))["data"]
    return data


def token_in(srv: InProcessServer, namespace: str, *policies: str, token: str | None = None) -> str:
    reply = srv.request("POST", "auth/token/create", token=token, headers=ns(namespace),
                        json={"policies": list(policies) or ["default"]})
    return str(ok(reply)["auth"]["client_token"])


def mount_kv(srv: InProcessServer, namespace: str, path: str = "kv") -> None:
    ok(srv.request("POST", f"sys/mounts/{path}", headers=ns(namespace),
                   json={"type": "kv", "options": {"version": "2"}}), 204)


def put(srv: InProcessServer, namespace: str, path: str, token: str | None = None, **data: str) -> httpx.Response:
    return srv.request("POST", path, token=token, headers=ns(namespace), json={"data": data})


# -- the table ------------------------------------------------------------------------------


def test_create_read_list_patch_delete_speak_vaults_shapes(ns_server: InProcessServer) -> None:
    created = make(ns_server, "team", custom_metadata={"owner": "ops"})
    assert re.fullmatch(r"[A-Za-z0-9]{5}", created["id"])
    assert created == {"id": created["id"], "path": "team/", "custom_metadata": {"owner": "ops"}}
    assert ok(ns_server.request("GET", "sys/namespaces/team"))["data"] == created
    listed = ok(ns_server.request("LIST", "sys/namespaces"))["data"]
    assert listed == {"keys": ["team/"], "key_info": {"team/": created}}
    patched = ok(ns_server.request("PATCH", "sys/namespaces/team", json={"custom_metadata": {"cost": "7"}},
                                   headers={"Content-Type": "application/merge-patch+json"}))["data"]
    assert patched["custom_metadata"] == {"owner": "ops", "cost": "7"}
    ok(ns_server.request("DELETE", "sys/namespaces/team"), 204)
    assert ns_server.request("GET", "sys/namespaces/team").status_code == 404
    assert ns_server.request("LIST", "sys/namespaces").status_code == 404


def test_nested_namespaces_are_created_relative_to_the_request_namespace(ns_server: InProcessServer) -> None:
    team = make(ns_server, "team")
    app = make(ns_server, "app", within="team")
    assert app["path"] == "team/app/"
    assert app["id"] != team["id"]
    # The same child through the path prefix, and a grandchild named from the root.
    assert ok(ns_server.request("GET", "team/sys/namespaces/app"))["data"] == app
    deep = make(ns_server, "team/app/db")
    assert deep["path"] == "team/app/db/"
    assert ok(ns_server.request("LIST", "sys/namespaces", headers=ns("team")))["data"]["keys"] == ["app/"]
    assert ok(ns_server.request("LIST", "sys/namespaces"))["data"]["keys"] == ["team/"]
    # A parent must exist first.
    missing = ns_server.request("POST", "sys/namespaces/nobody/child")
    assert missing.status_code == 400
    assert "does not exist" in missing.json()["errors"][0]


@pytest.mark.parametrize("name", ["sys", "auth", "root", "identity", "has space", "a/-b", "x" * 65])
def test_invalid_namespace_names_are_refused_and_nothing_is_created(ns_server: InProcessServer, name: str) -> None:
    assert ns_server.request("POST", f"sys/namespaces/{name}").status_code == 400
    assert ns_server.request("LIST", "sys/namespaces").status_code == 404


def test_a_namespace_with_children_is_not_deleted(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    make(ns_server, "team/app")
    refused = ns_server.request("DELETE", "sys/namespaces/team")
    assert refused.status_code == 400
    assert refused.json() == {"errors": ['cannot delete namespace "team/" containing child namespaces']}
    ok(ns_server.request("DELETE", "sys/namespaces/app", headers=ns("team")), 204)
    ok(ns_server.request("DELETE", "sys/namespaces/team"), 204)


# -- routing ---------------------------------------------------------------------------------


def test_header_path_prefix_and_both_combined_reach_the_same_namespace(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    make(ns_server, "team/app")
    mount_kv(ns_server, "team/app")
    ok(put(ns_server, "team/app", "kv/data/cfg", v="1"))
    for header, path in (("team/app", "kv/data/cfg"), ("", "team/app/kv/data/cfg"), ("team", "app/kv/data/cfg"),
                         ("team/", "app/kv/data/cfg"), ("/team/app/", "kv/data/cfg")):
        reply = ns_server.request("GET", path, headers=ns(header))
        assert ok(reply)["data"]["data"] == {"v": "1"}, (header, path)
    # The root and the parent do not have the mount.
    assert ns_server.request("GET", "kv/data/cfg").status_code == 404
    assert ns_server.request("GET", "kv/data/cfg", headers=ns("team")).status_code == 404


def test_each_namespace_has_its_own_mounts_and_builtins(ns_server: InProcessServer) -> None:
    make(ns_server, "a")
    make(ns_server, "b")
    for name in ("a", "b"):
        mount_kv(ns_server, name)
        mounts = ok(ns_server.request("GET", "sys/mounts", headers=ns(name)))["data"]
        assert set(mounts) == {"sys/", "identity/", "kv/"}  # no dev secret/ in a namespace
        assert set(ok(ns_server.request("GET", "sys/auth", headers=ns(name)))["data"]) == {"token/"}
    ok(put(ns_server, "a", "kv/data/x", owner="a"))
    ok(put(ns_server, "b", "kv/data/x", owner="b"))
    assert ok(ns_server.request("GET", "a/kv/data/x"))["data"]["data"] == {"owner": "a"}
    assert ok(ns_server.request("GET", "b/kv/data/x"))["data"]["data"] == {"owner": "b"}
    # The root namespace's own mounts are unchanged.
    assert "kv/" not in ok(ns_server.request("GET", "sys/mounts"))["data"]


def test_node_endpoints_are_served_in_the_root_namespace_only(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    assert ns_server.request("GET", "sys/key-status").status_code == 200
    assert ns_server.request("GET", "sys/key-status", headers=ns("team")).status_code == 404
    assert ns_server.request("PUT", "sys/seal", headers=ns("team")).status_code == 404


# -- policies and tokens -------------------------------------------------------------------------


def test_policies_are_per_namespace_and_each_has_its_own_default(ns_server: InProcessServer) -> None:
    make(ns_server, "a")
    make(ns_server, "b")
    ok(ns_server.request("PUT", "sys/policies/acl/writer", headers=ns("a"), json={"policy": READ_ALL}), 204)
    assert ok(ns_server.request("LIST", "sys/policies/acl", headers=ns("a")))["data"]["keys"] == [
        "default", "root", "writer"]
    assert ok(ns_server.request("LIST", "sys/policies/acl", headers=ns("b")))["data"]["keys"] == ["default", "root"]
    assert ns_server.request("GET", "sys/policies/acl/writer").status_code == 404
    assert ns_server.request("GET", "sys/policies/acl/writer", headers=ns("b")).status_code == 404
    # A token of b named "writer" gets b's (absent) writer policy: nothing.
    mount_kv(ns_server, "b")
    b_token = token_in(ns_server, "b", "writer")
    assert put(ns_server, "b", "kv/data/x", token=b_token, v="1").status_code == 403


def test_tokens_carry_their_namespace_id_and_stay_inside_it(ns_server: InProcessServer) -> None:
    a = make(ns_server, "a")
    make(ns_server, "b")
    for name in ("a", "b"):
        mount_kv(ns_server, name)
        ok(ns_server.request("PUT", "sys/policies/acl/all", headers=ns(name), json={"policy": READ_ALL}), 204)
    created = ok(ns_server.request("POST", "auth/token/create", headers=ns("a"), json={"policies": ["all"]}))
    token, accessor = created["auth"]["client_token"], created["auth"]["accessor"]
    assert token.endswith("." + a["id"])
    assert token.startswith("hvs.")
    assert accessor.endswith("." + a["id"])
    ok(put(ns_server, "a", "kv/data/x", token=token, v="1"))
    # Not in the sibling, not in the root: the very same answer as for no token at all.
    for header, path in (("b", "kv/data/x"), ("", "sys/mounts"), ("", "b/kv/data/x"), ("", "secret/data/x")):
        reply = ns_server.request("GET", path, token=token, headers=ns(header))
        assert (reply.status_code, reply.json()) == (403, DENIED_BODY), (header, path)
    looked = ok(ns_server.request("GET", "auth/token/lookup-self", token=token, headers=ns("a")))["data"]
    assert looked["policies"] == ["all", "default"]


def test_a_parent_token_acts_in_a_child_with_policies_naming_child_paths(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    make(ns_server, "team/app")
    make(ns_server, "team/other")
    for child in ("team/app", "team/other"):
        mount_kv(ns_server, child)
        ok(put(ns_server, child, "kv/data/x", v=child))
    policy = 'path "app/kv/data/*" { capabilities = ["read"] }'
    ok(ns_server.request("PUT", "sys/policies/acl/apps", headers=ns("team"), json={"policy": policy}), 204)
    parent = token_in(ns_server, "team", "apps")
    got = ns_server.request("GET", "kv/data/x", token=parent, headers=ns("team/app"))
    assert ok(got)["data"]["data"] == {"v": "team/app"}
    assert ok(ns_server.request("GET", "team/app/kv/data/x", token=parent))["data"]["data"] == {"v": "team/app"}
    # Its policies grant nothing in the sibling child, and nothing to write.
    assert ns_server.request("GET", "kv/data/x", token=parent, headers=ns("team/other")).status_code == 403
    assert put(ns_server, "team/app", "kv/data/x", token=parent, v="no").status_code == 403
    # A child's token cannot reach up to its parent.
    child = token_in(ns_server, "team/app", "default")
    reply = ns_server.request("GET", "sys/policies/acl", token=child, headers=ns("team"))
    assert (reply.status_code, reply.json()) == (403, DENIED_BODY)


def test_a_root_token_creates_tokens_inside_a_namespace(ns_server: InProcessServer) -> None:
    made = make(ns_server, "team")
    mount_kv(ns_server, "team")
    admin = token_in(ns_server, "team", "root")  # the usual way to hand a namespace to its administrator
    assert admin.endswith("." + made["id"])
    ok(ns_server.request("PUT", "sys/policies/acl/p", token=admin, headers=ns("team"), json={"policy": READ_ALL}),
       204)
    ok(put(ns_server, "team", "kv/data/y", token=admin, v="1"))
    assert ns_server.request("GET", "sys/policies/acl", token=admin).status_code == 403  # not in the root


# -- "as if it did not exist" ---------------------------------------------------------------------


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content


def test_another_namespaces_accessor_answers_exactly_as_an_unknown_one(ns_server: InProcessServer) -> None:
    make(ns_server, "a")
    make(ns_server, "b")
    foreign = ok(ns_server.request("POST", "auth/token/create", headers=ns("a"), json={}))["auth"]
    fake = "X" * 24 + "." + foreign["accessor"].rsplit(".", 1)[1]
    for path, body in (("auth/token/lookup-accessor", {}), ("auth/token/renew-accessor", {}),
                       ("auth/token/revoke-accessor", {}), ("sys/capabilities-accessor", {"paths": ["kv/x"]})):
        theirs = ns_server.request("POST", path, headers=ns("b"), json={"accessor": foreign["accessor"], **body})
        nothing = ns_server.request("POST", path, headers=ns("b"), json={"accessor": fake, **body})
        _same(theirs, nothing)
        assert theirs.status_code in (204, 400), theirs.text
    # The foreign token survived the revoke attempt in b.
    assert ns_server.request("GET", "auth/token/lookup-self", token=foreign["client_token"],
                             headers=ns("a")).status_code == 200
    # And a token of another namespace looked up by id is "bad token", as an unknown one.
    _same(ns_server.request("POST", "auth/token/lookup", headers=ns("b"), json={"token": foreign["client_token"]}),
          ns_server.request("POST", "auth/token/lookup", headers=ns("b"), json={"token": "hvs.nothing.xxxxx"}))


def test_another_namespaces_lease_answers_exactly_as_an_unknown_one(ns_server: InProcessServer,
                                                                     target: Target) -> None:
    a = make(ns_server, "a")
    make(ns_server, "b")
    for name in ("a", "b"):
        ok(ns_server.request("POST", "sys/mounts/fake", headers=ns(name), json={"type": "leasetest"}), 204)
    issued = ok(ns_server.request("POST", "fake/creds/web", headers=ns("a"), json={"ttl": "1h"}))
    lease_id = issued["lease_id"]
    assert lease_id.startswith("fake/creds/web/")
    assert lease_id.endswith("." + a["id"])
    fake = lease_id[:-len(a["id"]) - 12] + "0" * 11 + "." + a["id"]
    for method, path, body in (
        ("PUT", "sys/leases/lookup", {"lease_id": lease_id}),
        ("PUT", "sys/leases/renew", {"lease_id": lease_id}),
        ("PUT", "sys/leases/revoke", {"lease_id": lease_id}),
        ("PUT", "sys/leases/revoke-prefix/" + lease_id, {}),
        ("PUT", "sys/leases/revoke-force/" + lease_id, {}),
    ):
        theirs = ns_server.request(method, path, headers=ns("b"), json=body)
        nothing = ns_server.request(method, path.replace(lease_id, fake), headers=ns("b"),
                                    json=dict.fromkeys(body, fake))
        _same(theirs, nothing)
    listed = ns_server.request("LIST", "sys/leases/lookup/fake/creds/web", headers=ns("b"))
    assert listed.status_code == 404
    # Still alive in a, and never revoked on the target.
    assert ok(ns_server.request("PUT", "sys/leases/lookup", headers=ns("a"), json={"lease_id": lease_id}))
    assert target.revoked == []
    # And invisible from the root (the parent) too.
    _same(ns_server.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}),
          ns_server.request("PUT", "sys/leases/lookup", json={"lease_id": fake}))


def test_a_wrapped_answer_is_unwrapped_in_its_namespace_only(ns_server: InProcessServer) -> None:
    make(ns_server, "a")
    make(ns_server, "b")
    wrapped = ok(ns_server.request("POST", "sys/wrapping/wrap", headers={**ns("a"), "X-Vault-Wrap-TTL": "60"},
                                   json={"k": "v"}))["wrap_info"]["token"]
    refused = ns_server.request("POST", "sys/wrapping/unwrap", headers=ns("b"), json={"token": wrapped})
    _same(refused, ns_server.request("POST", "sys/wrapping/unwrap", headers=ns("b"), json={"token": "hvs.x.y"}))
    got = ok(ns_server.request("POST", "sys/wrapping/unwrap", headers=ns("a"), json={"token": wrapped}))
    assert got["data"] == {"k": "v"}


# -- deletion ---------------------------------------------------------------------------------------


def test_deleting_a_namespace_revokes_its_leases_and_tokens_and_erases_its_storage(
    ns_server: InProcessServer, target: Target
) -> None:
    made = make(ns_server, "gone")
    keep = make(ns_server, "keep")
    for name in ("gone", "keep"):
        ok(ns_server.request("POST", "sys/mounts/fake", headers=ns(name), json={"type": "leasetest"}), 204)
        mount_kv(ns_server, name)
        ok(put(ns_server, name, "kv/data/s", v=name))
    ok(ns_server.request("PUT", "sys/policies/acl/all", headers=ns("gone"), json={"policy": READ_ALL}), 204)
    token = token_in(ns_server, "gone", "all")
    ok(ns_server.request("POST", "fake/creds/web", headers=ns("gone"), json={"ttl": "1h"}))
    ok(ns_server.request("POST", "fake/creds/db", headers=ns("gone"), token=token, json={"ttl": "1h"}))
    ok(ns_server.request("POST", "fake/creds/kept", headers=ns("keep"), json={"ttl": "1h"}))
    physical = ns_server.physical
    prefix = f"namespaces/{made['id']}/"

    async def keys(under: str) -> list[str]:
        found, pending = [], [under]
        while pending:
            folder = pending.pop()
            for child in await physical.list(folder):
                (pending if child.endswith("/") else found).append(folder + child)
        return found

    assert ns_server.run(keys(prefix))
    ok(ns_server.request("DELETE", "sys/namespaces/gone"), 204)
    assert sorted(target.revoked) == ["db-2", "web-1"]  # through the engine, not just forgotten
    assert ns_server.run(keys(prefix)) == []
    assert ns_server.request("GET", "auth/token/lookup-self", token=token).status_code == 403
    assert ns_server.request("GET", "kv/data/s", headers=ns("gone")).status_code == 403
    # The sibling is untouched.
    assert ok(ns_server.request("GET", "kv/data/s", headers=ns("keep")))["data"]["data"] == {"v": "keep"}
    assert ns_server.run(keys(f"namespaces/{keep['id']}/"))
    # A namespace made again under the same name starts empty, with a new id.
    again = make(ns_server, "gone")
    assert again["id"] != made["id"]
    assert set(ok(ns_server.request("GET", "sys/mounts", headers=ns("gone")))["data"]) == {"sys/", "identity/"}


def test_the_root_namespace_keeps_its_storage_layout(ns_server: InProcessServer) -> None:
    make(ns_server, "team")

    async def top() -> list[str]:
        return await ns_server.physical.list("")

    assert set(ns_server.run(top())) <= {"core/", "sys/", "logical/", "auth/", "namespaces/"}


def test_the_expiry_loop_revokes_due_leases_in_every_namespace(ns_server: InProcessServer, target: Target) -> None:
    make(ns_server, "a")
    make(ns_server, "a/b")
    for name in ("", "a", "a/b"):
        ok(ns_server.request("POST", "sys/mounts/fake", headers=ns(name), json={"type": "leasetest"}), 204)
        ok(ns_server.request("POST", "fake/creds/" + (name.replace("/", "-") or "root"), headers=ns(name),
                             json={"ttl": "1h"}))
    clock = ns_server.clock
    assert isinstance(clock, ManualClock)
    clock.advance(3601)
    assert ns_server.run(ns_server.core.namespaces.expire_due()) is False  # no batch was full
    assert sorted(target.revoked) == ["a-2", "a-b-3", "root-1"]


def test_identity_is_per_namespace_and_logins_attach_the_namespaces_entity(ns_server: InProcessServer) -> None:
    make(ns_server, "a")
    make(ns_server, "b")
    entity = ok(ns_server.request("POST", "identity/entity", headers=ns("a"), json={"name": "alice"}))["data"]
    assert ok(ns_server.request("LIST", "identity/entity/id", headers=ns("a")))["data"]["keys"] == [entity["id"]]
    assert ns_server.request("LIST", "identity/entity/id", headers=ns("b")).status_code == 404
    assert ns_server.request("LIST", "identity/entity/id").status_code == 404
    _same(ns_server.request("GET", f"identity/entity/id/{entity['id']}", headers=ns("b")),
          ns_server.request("GET", "identity/entity/id/" + "0" * 8 + entity["id"][8:], headers=ns("b")))
    # A login in b makes its entity in b, not in a or the root.
    ok(ns_server.request("POST", "sys/auth/userpass", headers=ns("b"), json={"type": "userpass"}), 204)
    ok(ns_server.request("POST", "auth/userpass/users/bob", headers=ns("b"), json={"password": "pw-bob-1"}), 204)
    auth = ok(ns_server.request("POST", "auth/userpass/login/bob", headers=ns("b"), token="",
                                json={"password": "pw-bob-1"}))["auth"]
    assert auth["entity_id"]
    assert ok(ns_server.request("GET", f"identity/entity/id/{auth['entity_id']}", headers=ns("b")))
    assert ns_server.request("GET", f"identity/entity/id/{auth['entity_id']}", headers=ns("a")).status_code == 404
    assert ok(ns_server.request("LIST", "identity/entity/id", headers=ns("a")))["data"]["keys"] == [entity["id"]]


def test_a_mount_and_a_namespace_cannot_share_a_name(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    refused = ns_server.request("POST", "sys/mounts/team", json={"type": "kv"})
    assert refused.status_code == 400
    assert refused.json() == {"errors": ["path is already in use by namespace team/"]}
    mount_kv(ns_server, "", "app")
    clash = ns_server.request("POST", "sys/namespaces/app")
    assert clash.status_code == 400
    assert clash.json() == {"errors": ['"app/" is a mount path in this namespace']}


def test_a_token_minted_in_a_child_by_an_ancestors_token_dies_with_it(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    mount_kv(ns_server, "team")
    ok(ns_server.request("PUT", "sys/policies/acl/all", headers=ns("team"), json={"policy": READ_ALL}), 204)
    admin_policy = 'path "team/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
    ok(ns_server.request("PUT", "sys/policies/acl/team-admin", json={"policy": admin_policy}), 204)
    admin = token_in(ns_server, "", "team-admin")
    minted = ok(ns_server.request("POST", "auth/token/create", token=admin, headers=ns("team"),
                                  json={"policies": ["all"]}))["auth"]
    child = token_in(ns_server, "team", "all", token=minted["client_token"])  # a child in team itself
    ok(put(ns_server, "team", "kv/data/x", token=minted["client_token"], v="1"))
    ok(put(ns_server, "team", "kv/data/x", token=child, v="2"))
    # Revoking the root-namespace token takes the token it minted in team/, and that one's child.
    ok(ns_server.request("POST", "auth/token/revoke-self", token=admin), 204)
    for token in (minted["client_token"], child):
        reply = ns_server.request("GET", "kv/data/x", token=token, headers=ns("team"))
        assert (reply.status_code, reply.json()) == (403, DENIED_BODY)
    _same(ns_server.request("POST", "auth/token/lookup-accessor", headers=ns("team"),
                            json={"accessor": minted["accessor"]}),
          ns_server.request("POST", "auth/token/lookup-accessor", headers=ns("team"),
                            json={"accessor": "Y" * 24 + minted["accessor"][24:]}))
    # An orphan made the same way does not hang from its creator.
    admin = token_in(ns_server, "", "team-admin")
    orphan = ok(ns_server.request("POST", "auth/token/create-orphan", token=admin, headers=ns("team"),
                                  json={"policies": ["all"]}))["auth"]["client_token"]
    ok(ns_server.request("POST", "auth/token/revoke-self", token=admin), 204)
    assert ok(ns_server.request("GET", "kv/data/x", token=orphan, headers=ns("team")))["data"]["data"] == {"v": "2"}


def test_logins_locked_out_in_a_namespace_are_listed_and_stay_locked(ns_server: InProcessServer) -> None:
    made = make(ns_server, "team")
    ok(ns_server.request("POST", "sys/auth/userpass", headers=ns("team"), json={"type": "userpass"}), 204)
    ok(ns_server.request("POST", "auth/userpass/users/eve", headers=ns("team"), json={"password": "right-pw-1"}), 204)
    accessor = ok(ns_server.request("GET", "sys/auth", headers=ns("team")))["data"]["userpass/"]["accessor"]
    for _ in range(5):
        wrong = ns_server.request("POST", "auth/userpass/login/eve", headers=ns("team"), token="",
                                  json={"password": "wrong"})
        assert wrong.status_code in (400, 403), wrong.text
    listed = ok(ns_server.request("GET", "sys/locked-users"))["data"]
    assert listed == {"total": 1, "by_namespace": [{
        "namespace_id": made["id"], "namespace_path": "team/", "counts": 1,
        "mount_accessors": [{"mount_accessor": accessor, "counts": 1, "alias_identifiers": ["eve"]}]}]}
    # Listing forgot nothing: the right password is still refused while locked.
    locked = ns_server.request("POST", "auth/userpass/login/eve", headers=ns("team"), token="",
                               json={"password": "right-pw-1"})
    assert locked.status_code in (400, 403)
    assert locked.json() == wrong.json()
    ok(ns_server.request("POST", f"sys/locked-users/{accessor}/unlock/eve"), 204)
    assert ok(ns_server.request("POST", "auth/userpass/login/eve", headers=ns("team"), token="",
                                json={"password": "right-pw-1"}))["auth"]["client_token"].endswith("." + made["id"])


def test_a_rate_limit_quota_can_name_a_namespace_or_a_mount_inside_one(ns_server: InProcessServer) -> None:
    clock = ns_server.clock
    assert isinstance(clock, ManualClock)
    ns_server.core.quotas = QuotaEnforcer(StorageView(ns_server.barrier, "sys/quotas/"), clock=clock)
    make(ns_server, "team")
    make(ns_server, "other")
    for name in ("team", "other"):
        mount_kv(ns_server, name)
    ok(ns_server.request("POST", "sys/quotas/rate-limit/team-kv", json={"path": "team/kv", "rate": 2}), 204)
    ok(ns_server.request("POST", "sys/quotas/rate-limit/other", json={"path": "other", "rate": 1}), 204)
    assert ok(ns_server.request("GET", "sys/quotas/rate-limit/team-kv"))["data"]["path"] == "team/kv/"
    assert ok(ns_server.request("GET", "sys/quotas/rate-limit/other"))["data"]["path"] == "other/"
    refused = ns_server.request("POST", "sys/quotas/rate-limit/bad", json={"path": "team/nothing", "rate": 1})
    assert refused.status_code == 400
    statuses = [ns_server.request("GET", "kv/data/x", headers=ns("team")).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    assert [ns_server.request("GET", "other/sys/mounts").status_code for _ in range(2)] == [200, 429]
    assert ns_server.request("GET", "secret/data/x").status_code == 404  # the root namespace is not limited


def test_an_ancestors_token_looks_itself_up_and_revokes_itself_from_a_child(ns_server: InProcessServer) -> None:
    make(ns_server, "team")
    policy = 'path "team/auth/token/*" { capabilities = ["read", "update"] }'
    ok(ns_server.request("PUT", "sys/policies/acl/self-in-team", json={"policy": policy}), 204)
    token = token_in(ns_server, "", "self-in-team")
    looked = ok(ns_server.request("GET", "auth/token/lookup-self", token=token, headers=ns("team")))["data"]
    assert looked["policies"] == ["default", "self-in-team"]
    ok(ns_server.request("POST", "auth/token/revoke-self", token=token, headers=ns("team")), 204)
    assert ns_server.request("GET", "auth/token/lookup-self", token=token).status_code == 403
