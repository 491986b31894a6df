"""The ``config`` and ``role/:name`` paths: Vault's fields and shapes, validation, secrets never read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from k8s_auth_harness import REVIEWER_JWT, Cluster, D, L, Mount, R, U, api_server, public_pem, run

from strongroom.auth.kubernetes.config import load_config
from strongroom.auth.kubernetes.globs import glob_match
from strongroom.auth.kubernetes.selector import parse_selector
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.logical import Operation


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture(scope="module")
def host(cluster: Cluster) -> Iterator[str]:
    with api_server(cluster) as (address, _):
        yield address


def test_config_reads_back_without_the_reviewer_jwt(cluster: Cluster) -> None:
    async def main() -> None:
        mount = Mount()
        assert await mount.call(R, "config") is None
        await mount.call(U, "config", {"kubernetes_host": "https://10.96.0.1:443", "token_reviewer_jwt": REVIEWER_JWT,
                                       "pem_keys": [public_pem(cluster.ec_key)], "issuer": "https://issuer"})
        data = await mount.data(R, "config")
        assert data == {"kubernetes_host": "https://10.96.0.1:443", "kubernetes_ca_cert": "",
                        "pem_keys": [public_pem(cluster.ec_key).strip()], "issuer": "https://issuer",
                        "disable_iss_validation": True, "disable_local_ca_jwt": False,
                        "use_annotations_as_alias_metadata": False, "token_reviewer_jwt_set": True}
        assert REVIEWER_JWT not in repr(data)
        assert REVIEWER_JWT not in repr(await mount.backend.handle(
            mount.backend_request(R, "config")))

    run(main())


@pytest.mark.parametrize(("config", "message"), [
    ({}, "one of kubernetes_host or pem_keys must be set"),
    ({"kubernetes_host": "ftp://10.0.0.1"}, "URL scheme"),
    ({"kubernetes_host": "https://user:pw@10.0.0.1"}, "user info"),
    ({"kubernetes_host": "https://10.0.0.1", "kubernetes_ca_cert": "not a cert"}, "not a PEM certificate"),
    ({"pem_keys": ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]}, "not a PEM public key"),
    ({"pem_keys": ["garbage"]}, "not a PEM public key"),
    ({"pem_keys": ["x"] * 65}, "at most 64"),
    ({"pem_keys": ["k"], "use_annotations_as_alias_metadata": True}, "needs kubernetes_host"),
])
def test_invalid_config_is_refused_with_400(config: dict[str, Any], message: str) -> None:
    async def main() -> None:
        mount = Mount()
        body = {k: ([public_pem(ec.generate_private_key(ec.SECP256R1()))] if v == ["k"] else v)
                for k, v in config.items()}
        with pytest.raises(InvalidRequest, match=message):
            await mount.call(U, "config", body)
        assert await mount.call(R, "config") is None

    run(main())


def test_ed25519_keys_are_refused_for_service_account_tokens() -> None:
    async def main() -> None:
        with pytest.raises(InvalidRequest, match="only RSA and EC"):
            await Mount().call(U, "config", {"pem_keys": [public_pem(ed25519.Ed25519PrivateKey.generate())]})

    run(main())


def test_roles_are_written_read_listed_and_deleted() -> None:
    async def main() -> None:
        mount = Mount()
        await mount.call(U, "role/api", {"bound_service_account_names": ["api", "api-*"],
                                         "bound_service_account_namespaces": "payments,team-*",
                                         "audience": "vault", "policies": ["payments-read"], "ttl": "1h",
                                         "token_max_ttl": "2h", "token_num_uses": 5, "token_period": 0,
                                         "token_bound_cidrs": ["10.0.0.0/8"], "token_type": "service"})
        await mount.call(U, "role/other", {"bound_service_account_names": "*",
                                           "bound_service_account_namespaces": "*"})
        data = await mount.data(R, "role/api")
        assert data["bound_service_account_names"] == ["api", "api-*"]
        assert data["bound_service_account_namespaces"] == ["payments", "team-*"]
        assert data["bound_service_account_namespace_selector"] == ""
        assert data["audience"] == "vault"
        assert data["alias_name_source"] == "serviceaccount_uid"
        assert data["token_policies"] == ["payments-read"]
        assert (data["token_ttl"], data["token_max_ttl"], data["token_num_uses"]) == (3600, 7200, 5)
        assert data["token_bound_cidrs"] == ["10.0.0.0/8"]
        assert data["token_type"] == "service"
        assert (await mount.data(L, "role/"))["keys"] == ["api", "other"]
        await mount.call(U, "role/api", {"token_ttl": "30m"})  # an update keeps the other fields
        assert (await mount.data(R, "role/api"))["bound_service_account_names"] == ["api", "api-*"]
        await mount.call(D, "role/api")
        with pytest.raises(NotFound):
            await mount.call(R, "role/api")
        assert (await mount.data(L, "role/"))["keys"] == ["other"]

    run(main())


@pytest.mark.parametrize(("body", "message"), [
    ({"bound_service_account_namespaces": "x"}, "bound_service_account_names must be set"),
    ({"bound_service_account_names": "x"}, "bound_service_account_namespaces or"),
    ({"bound_service_account_names": ["*", "api"], "bound_service_account_namespaces": "x"}, "cannot be combined"),
    ({"bound_service_account_names": "a", "bound_service_account_namespaces": "x", "alias_name_source": "pod"},
     "alias_name_source must be one of"),
    ({"bound_service_account_names": "a", "bound_service_account_namespaces": "x", "token_policies": "Root "},
     "root policy"),
    ({"bound_service_account_names": "a", "bound_service_account_namespaces": "x", "token_type": "batch"},
     "batch tokens"),
    ({"bound_service_account_names": "a", "bound_service_account_namespaces": "x", "token_ttl": "2h",
      "token_max_ttl": "1h"}, "token_ttl"),
    ({"bound_service_account_names": [f"n{i}" for i in range(300)], "bound_service_account_namespaces": "x"},
     "too many"),
])
def test_invalid_roles_are_refused_with_400(body: dict[str, Any], message: str) -> None:
    async def main() -> None:
        mount = Mount()
        with pytest.raises(InvalidRequest, match=message):
            await mount.call(U, "role/api", body)
        assert (await mount.data(L, "role/"))["keys"] == []

    run(main())


def test_alias_name_source_cannot_change_on_an_existing_role() -> None:
    async def main() -> None:
        mount = Mount()
        await mount.call(U, "role/api", {"bound_service_account_names": "a", "bound_service_account_namespaces": "x"})
        with pytest.raises(InvalidRequest, match="cannot be changed"):
            await mount.call(U, "role/api", {"alias_name_source": "serviceaccount_name"})

    run(main())


@pytest.mark.parametrize("name", ["..", "-lead", "x" * 129, "sp ace", "tab\t", "ünï"])
def test_role_names_outside_the_allowed_alphabet_are_refused(name: str) -> None:
    async def main() -> None:
        with pytest.raises(InvalidRequest, match="invalid role name"):
            await Mount().call(U, f"role/{name}", {"bound_service_account_names": "a",
                                                   "bound_service_account_namespaces": "x"})

    run(main())


def test_a_role_path_with_a_slash_is_not_a_role() -> None:
    async def main() -> None:
        with pytest.raises(NotFound):
            await Mount().call(U, "role/a/b", {"bound_service_account_names": "a",
                                               "bound_service_account_namespaces": "x"})

    run(main())


def test_namespace_selector_is_stored_and_read_back() -> None:
    async def main() -> None:
        mount = Mount()
        selector = '{"matchLabels":{"team":"payments"}}'
        await mount.call(U, "role/sel", {"bound_service_account_names": "api",
                                         "bound_service_account_namespace_selector": selector})
        assert (await mount.data(R, "role/sel"))["bound_service_account_namespace_selector"] == selector

    run(main())


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("api", "api", True), ("api", "api2", False), ("*", "", True), ("*", "anything", True),
    ("api-*", "api-web", True), ("api-*", "api-", True), ("api-*", "web-api", False),
    ("*-prod", "pay-prod", True), ("*-prod", "pay-prod-2", False), ("a*b*c", "aXbYc", True),
    ("a*b*c", "acb", False), ("ab*ba", "aba", False), ("team-?", "team-a", False), ("team-[ab]", "team-a", False),
])
def test_globs_only_treat_star_as_special(pattern: str, value: str, matches: bool) -> None:
    assert glob_match(pattern, value) is matches


def test_annotations_become_alias_metadata_without_overriding_the_login_facts(cluster: Cluster, host: str) -> None:
    cluster.annotations[("payments", "api")] = {
        "vault.hashicorp.com/alias-metadata-team": "payments",
        "vault.hashicorp.com/alias-metadata-service_account_uid": "forged-uid",
        "unrelated/annotation": "ignored",
    }

    async def main() -> None:
        mount = Mount()
        await mount.call(U, "config", {"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT,
                                       "use_annotations_as_alias_metadata": True})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        auth = (await mount.login(cluster.token(uid="real-uid"))).auth
        assert auth is not None
        assert auth.alias_metadata["team"] == "payments"
        assert auth.alias_metadata["service_account_uid"] == "real-uid"
        assert "unrelated/annotation" not in auth.alias_metadata
        assert auth.metadata["service_account_uid"] == "real-uid"

    run(main())


def test_login_is_the_only_path_reachable_without_a_token() -> None:
    assert Mount().backend.unauthenticated_paths() == ["login"]
    assert Mount().backend.login_principal(Mount().backend_request(Operation.UPDATE, "login", {
        "role": "api", "jwt": "x.y.z"})) is None


def test_config_and_role_writes_distinguish_create_from_update() -> None:
    async def main() -> None:
        mount = Mount()
        role = {"bound_service_account_names": "a", "bound_service_account_namespaces": "x"}
        assert await mount.backend.existence(mount.backend_request(U, "config")) is False
        assert await mount.backend.existence(mount.backend_request(U, "role/api")) is False
        await mount.call(U, "config", {"kubernetes_host": "https://10.96.0.1"})
        await mount.call(U, "role/api", role)
        assert await mount.backend.existence(mount.backend_request(U, "config")) is True
        assert await mount.backend.existence(mount.backend_request(U, "role/api")) is True

    run(main())


def test_the_stored_config_does_not_show_the_reviewer_jwt_in_its_repr() -> None:
    async def main() -> None:
        mount = Mount()
        await mount.call(U, "config", {"kubernetes_host": "https://10.96.0.1", "token_reviewer_jwt": REVIEWER_JWT})
        config = await load_config(mount.storage)
        assert config is not None
        assert config.token_reviewer_jwt == REVIEWER_JWT
        assert REVIEWER_JWT not in repr(config)

    run(main())


@pytest.mark.parametrize(("selector", "message"), [
    ("{}", "would match every namespace"),
    ("matchLabels: {}", "would match every namespace"),
    ("[1, 2]", "must be an object"),
    ("{matchLabels: {a: 1}}", "map strings to strings"),
    ("{labels: {a: b}}", "must be an object"),
    ('{"matchExpressions": [{"key": "a", "operator": "Like", "values": ["b"]}]}', "operator must be one of"),
    ('{"matchExpressions": [{"key": "a", "operator": "In"}]}', "In and NotIn need values"),
    ('{"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}', "take none"),
    ('{"matchExpressions": [{"operator": "Exists"}]}', "needs a key"),
    ("{unclosed", "not valid JSON or YAML"),
])
def test_namespace_selectors_that_cannot_be_evaluated_are_refused_on_write(selector: str, message: str) -> None:
    async def main() -> None:
        with pytest.raises(InvalidRequest, match=message):
            await Mount().call(U, "role/sel", {"bound_service_account_names": "api",
                                               "bound_service_account_namespace_selector": selector})

    run(main())


@pytest.mark.parametrize(("expression", "labels", "matches"), [
    ({"key": "env", "operator": "In", "values": ["prod"]}, {"env": "prod"}, True),
    ({"key": "env", "operator": "In", "values": ["prod"]}, {}, False),
    ({"key": "env", "operator": "NotIn", "values": ["prod"]}, {"env": "dev"}, True),
    ({"key": "env", "operator": "NotIn", "values": ["prod"]}, {}, True),
    ({"key": "env", "operator": "NotIn", "values": ["prod"]}, {"env": "prod"}, False),
    ({"key": "env", "operator": "Exists"}, {"env": ""}, True),
    ({"key": "env", "operator": "Exists"}, {}, False),
    ({"key": "env", "operator": "DoesNotExist"}, {}, True),
    ({"key": "env", "operator": "DoesNotExist"}, {"env": "x"}, False),
])
def test_selector_expressions_follow_kubernetes_semantics(expression: dict[str, Any], labels: dict[str, str],
                                                           matches: bool) -> None:
    selector = parse_selector(json.dumps({"matchExpressions": [expression]}))
    assert selector.matches(labels) is matches
