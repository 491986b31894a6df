"""Least privilege through identity: two Kubernetes namespaces, one templated policy, a real server process.

Workloads in ``team-a`` and ``team-b`` log in with service-account tokens signed in
the test (checked by a faithful TokenReview endpoint on 127.0.0.1). Their tokens
carry only the ``tenant`` policy, whose paths are filled from the caller's alias
metadata (``service_account_namespace``). Each reads and writes only its own
subtree, issues and revokes only its own PKI leases, and a probe at the other
namespace's secret, lease or token accessor gets exactly the answer a probe at
something that does not exist gets.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running
from tests.unit.auth.kubernetes.k8s_auth_harness import REVIEWER_JWT, Cluster, api_server

LOOPBACK_SWITCH = "STRONGROOM_KUBERNETES_AUTH_ALLOW_LOOPBACK"
NAMESPACE = "{{identity.entity.aliases.%s.metadata.service_account_namespace}}"
TENANT_POLICY = """
path "secret/data/NS/*" { capabilities = ["create", "read", "update"] }
path "pki/issue/NS" { capabilities = ["update"] }
path "sys/leases/revoke/pki/issue/NS/*" { capabilities = ["update"] }
path "sys/leases/renew/pki/issue/NS/*" { capabilities = ["update"] }
"""


class Api:
    def __init__(self, address: str, token: str) -> None:
        self.http = httpx.Client(base_url=address + "/v1/", headers={"X-Vault-Token": token}, timeout=15)

    def __call__(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        return self.http.request(method, path, json=body)


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cluster: Cluster) -> Iterator[tuple[ServerProcess, str]]:
    with api_server(cluster) as (kubernetes_host, _):
        process = dev_server_process(tmp_path_factory.mktemp("identity-k8s"))
        process.env[LOOPBACK_SWITCH] = "true"
        with running(process):
            yield process, kubernetes_host


@pytest.fixture(scope="module")
def tenants(server: tuple[ServerProcess, str], cluster: Cluster) -> Iterator[dict[str, object]]:
    process, kubernetes_host = server
    root = Api(process.address, ROOT_TOKEN)
    assert root("POST", "sys/auth/kubernetes", {"type": "kubernetes"}).status_code == 204
    root("POST", "auth/kubernetes/config", {"kubernetes_host": kubernetes_host, "token_reviewer_jwt": REVIEWER_JWT})
    accessor = root("GET", "sys/auth").json()["data"]["kubernetes/"]["accessor"]
    policy = TENANT_POLICY.replace("NS", NAMESPACE % accessor)
    assert root("PUT", "sys/policies/acl/tenant", {"policy": policy}).status_code == 204
    assert root("POST", "auth/kubernetes/role/app", {
        "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["team-a", "team-b"],
        "token_policies": ["tenant"], "token_no_default_policy": True,
    }).status_code == 204
    assert root("POST", "sys/mounts/pki", {"type": "pki"}).status_code == 204
    root("POST", "pki/root/generate/internal", {"common_name": "Tenant Root", "key_type": "ec"})
    for team in ("team-a", "team-b"):
        root("POST", f"secret/data/{team}/db", {"data": {"password": f"{team}-password"}})
        root("POST", f"pki/roles/{team}", {"allowed_domains": [f"{team}.example.com"], "allow_subdomains": True,
                                            "key_type": "ec", "generate_lease": True, "ttl": "1h"})
    apis: dict[str, object] = {"root": root, "accessor": accessor}
    for team in ("team-a", "team-b"):
        anonymous = Api(process.address, "")
        login = anonymous("POST", "auth/kubernetes/login",
                          {"role": "app", "jwt": cluster.token(namespace=team, name="app")})
        anonymous.http.close()
        assert login.status_code == 200, login.text
        auth = login.json()["auth"]
        assert auth["policies"] == ["tenant"]
        assert auth["entity_id"]
        apis[team] = Api(process.address, auth["client_token"])
        apis[team + "-accessor"] = auth["accessor"]
        apis[team + "-entity"] = auth["entity_id"]
    yield apis
    for api in apis.values():
        if isinstance(api, Api):
            api.http.close()


def _api(tenants: dict[str, object], name: str) -> Api:
    found = tenants[name]
    assert isinstance(found, Api)
    return found


def _same_refusal(first: httpx.Response, second: httpx.Response) -> None:
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert first.status_code in (403, 404)


def test_each_namespace_reads_and_writes_only_its_own_subtree(tenants: dict[str, object]) -> None:
    a, b = _api(tenants, "team-a"), _api(tenants, "team-b")
    assert a("GET", "secret/data/team-a/db").json()["data"]["data"] == {"password": "team-a-password"}
    assert b("GET", "secret/data/team-b/db").json()["data"]["data"] == {"password": "team-b-password"}
    assert a("POST", "secret/data/team-a/new", {"data": {"k": "v"}}).status_code == 200
    assert a("GET", "secret/data/team-a/absent").status_code == 404
    for path in ("secret/data/team-b/db", "secret/data/team-b/absent", "secret/data/team-a",
                 "secret/metadata/team-a/db"):
        assert a("GET", path).status_code == 403
    assert a("POST", "secret/data/team-b/db", {"data": {"password": "overwritten"}}).status_code == 403
    assert b("GET", "secret/data/team-b/db").json()["data"]["data"] == {"password": "team-b-password"}


def test_a_probe_at_the_other_namespace_looks_exactly_like_a_probe_at_nothing(tenants: dict[str, object]) -> None:
    a, b = _api(tenants, "team-a"), _api(tenants, "team-b")
    _same_refusal(a("GET", "secret/data/team-b/db"), a("GET", "secret/data/team-zzz/nothing"))
    # Leases: B's real lease and a lease id that never existed.
    issued_b = b("POST", "pki/issue/team-b", {"common_name": "svc.team-b.example.com"})
    assert issued_b.status_code == 200, issued_b.text
    lease_b = issued_b.json()["lease_id"]
    assert lease_b.startswith("pki/issue/team-b/")
    fake = "pki/issue/team-b/" + "0" * 24
    _same_refusal(a("PUT", f"sys/leases/revoke/{lease_b}"), a("PUT", f"sys/leases/revoke/{fake}"))
    _same_refusal(a("PUT", f"sys/leases/renew/{lease_b}"), a("PUT", f"sys/leases/renew/{fake}"))
    _same_refusal(a("PUT", "sys/leases/lookup", {"lease_id": lease_b}),
                  a("PUT", "sys/leases/lookup", {"lease_id": fake}))
    _same_refusal(a("POST", "pki/issue/team-b", {"common_name": "x.team-b.example.com"}),
                  a("POST", "pki/issue/team-zzz", {"common_name": "x.team-zzz.example.com"}))
    # Token accessors: B's and one that does not exist.
    accessor_b = tenants["team-b-accessor"]
    _same_refusal(a("POST", "auth/token/lookup-accessor", {"accessor": accessor_b}),
                  a("POST", "auth/token/lookup-accessor", {"accessor": "A" * 24}))
    _same_refusal(a("POST", "auth/token/revoke-accessor", {"accessor": accessor_b}),
                  a("POST", "auth/token/revoke-accessor", {"accessor": "A" * 24}))
    # B's lease and token are untouched, and A still manages its own lease.
    assert b("GET", "secret/data/team-b/db").status_code == 200
    issued_a = a("POST", "pki/issue/team-a", {"common_name": "svc.team-a.example.com"})
    assert issued_a.status_code == 200, issued_a.text
    renewed = a("PUT", f"sys/leases/renew/{issued_a.json()['lease_id']}")
    # Past the ACL: the PKI engine itself answers (its certificate leases are not renewable).
    assert renewed.status_code == 400, renewed.text
    assert "renew" in renewed.text
    assert a("PUT", f"sys/leases/revoke/{issued_a.json()['lease_id']}").status_code == 204
    assert b("PUT", f"sys/leases/revoke/{lease_b}").status_code == 204


def test_the_two_workloads_have_two_entities_with_their_namespace_in_the_alias(tenants: dict[str, object]) -> None:
    root, accessor = _api(tenants, "root"), tenants["accessor"]
    namespaces = set()
    for team in ("team-a", "team-b"):
        found = root("POST", "identity/lookup/entity",
                     {"alias_name": f"uid-{team}-app", "alias_mount_accessor": accessor}).json()["data"]
        (alias,) = found["aliases"]
        assert alias["mount_path"] == "auth/kubernetes/"
        namespaces.add(alias["metadata"]["service_account_namespace"])
    assert namespaces == {"team-a", "team-b"}


def test_a_recreated_service_account_does_not_inherit_the_old_identity(
    server: tuple[ServerProcess, str], cluster: Cluster, tenants: dict[str, object]
) -> None:
    # Same namespace and name, new UID (the account was deleted and created again): a new entity.
    anonymous = Api(server[0].address, "")
    login = anonymous("POST", "auth/kubernetes/login",
                      {"role": "app", "jwt": cluster.token(namespace="team-a", name="app", uid="uid-recreated")})
    anonymous.http.close()
    assert login.status_code == 200, login.text
    assert login.json()["auth"]["entity_id"] != tenants["team-a-entity"]


def test_metadata_holding_path_syntax_never_walks_out_of_a_templated_path(tenants: dict[str, object]) -> None:
    root = _api(tenants, "root")
    policy = 'path "secret/data/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }'
    assert root("PUT", "sys/policies/acl/by-team", {"policy": policy}).status_code == 204
    entity = root("POST", "identity/entity", {"name": "tricky", "policies": ["by-team"]}).json()["data"]
    # The entity's token comes from a login through an alias made for it on a userpass mount.
    assert root("POST", "sys/auth/up-tricky", {"type": "userpass"}).status_code == 204
    accessor = root("GET", "sys/auth").json()["data"]["up-tricky/"]["accessor"]
    root("POST", "identity/entity-alias", {"name": "tricky", "mount_accessor": accessor,
                                           "canonical_id": entity["id"]})
    root("POST", "auth/up-tricky/users/tricky", {"password": "pw"})
    address = f"{root.http.base_url.scheme}://{root.http.base_url.netloc.decode()}"
    anonymous = Api(address, "")
    login = anonymous("POST", "auth/up-tricky/login/tricky", {"password": "pw"}).json()["auth"]
    anonymous.http.close()
    assert login["entity_id"] == entity["id"]
    user = Api(address, login["client_token"])
    try:
        for value in ("team-a/..", "team-b/db", "*", "+", "team-a/*", "..", "", "team-\u200ba"):
            root("POST", f"identity/entity/id/{entity['id']}", {"metadata": {"team": value}})
            for path in ("secret/data/team-a/db", "secret/data/team-b/db", "secret/data/x/y"):
                assert user("GET", path).status_code == 403, (value, path)
        root("POST", f"identity/entity/id/{entity['id']}", {"metadata": {"team": "team-b"}})
        assert user("GET", "secret/data/team-b/db").status_code == 200
        assert user("GET", "secret/data/team-a/db").status_code == 403
    finally:
        user.http.close()
