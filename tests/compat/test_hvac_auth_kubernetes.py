"""hvac's Kubernetes auth API (``client.auth.kubernetes``) against a real dev server process.

Logins are real: the server's TokenReview call goes over HTTP to a small API
server the test runs on 127.0.0.1, which verifies the RS256/ES256 tokens the
test signs. The server process is started with
``STRONGROOM_KUBERNETES_AUTH_ALLOW_LOOPBACK=true`` (the operator switch that
lets ``kubernetes_host`` be a loopback address); the session's shared dev
server, started without it, refuses to reach the same loopback API server.
"""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import client, unique
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running
from tests.unit.auth.kubernetes.k8s_auth_harness import REVIEWER_JWT, Cluster, api_server

LOOPBACK_SWITCH = "STRONGROOM_KUBERNETES_AUTH_ALLOW_LOOPBACK"


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture(scope="module")
def kubernetes_host(cluster: Cluster) -> Iterator[str]:
    with api_server(cluster) as (address, _):
        yield address


@pytest.fixture(scope="module")
def k8s_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A dev server allowed to reach a loopback Kubernetes API server."""
    server = dev_server_process(tmp_path_factory.mktemp("k8s-dev"))
    server.env[LOOPBACK_SWITCH] = "true"
    with running(server):
        yield server


@pytest.fixture(scope="module")
def k8s_root(k8s_server: ServerProcess) -> hvac.Client:
    return client(k8s_server.address, ROOT_TOKEN)


@pytest.fixture
def mount(k8s_root: hvac.Client, kubernetes_host: str) -> str:
    path = unique("kubernetes")
    k8s_root.sys.enable_auth_method("kubernetes", path=path)
    k8s_root.auth.kubernetes.configure(kubernetes_host, token_reviewer_jwt=REVIEWER_JWT, mount_point=path)
    return path


def test_config_is_written_and_read_without_the_reviewer_jwt(k8s_root: hvac.Client, mount: str,
                                                             kubernetes_host: str) -> None:
    config = k8s_root.auth.kubernetes.read_config(mount_point=mount)
    assert config["kubernetes_host"] == kubernetes_host
    assert config["token_reviewer_jwt_set"] is True
    assert config["disable_local_ca_jwt"] is False
    assert "token_reviewer_jwt" not in config


def test_roles_are_created_read_listed_and_deleted(k8s_root: hvac.Client, mount: str) -> None:
    k8s = k8s_root.auth.kubernetes
    k8s.create_role("api", bound_service_account_names=["api"], bound_service_account_namespaces=["payments", "team-*"],
                    policies=["payments-read"], ttl="20m", max_ttl="1h", audience="vault", mount_point=mount)
    k8s.create_role("other", bound_service_account_names="*", bound_service_account_namespaces="*",
                    alias_name_source="serviceaccount_name", mount_point=mount)
    role = k8s.read_role("api", mount_point=mount)
    assert role["bound_service_account_names"] == ["api"]
    assert role["bound_service_account_namespaces"] == ["payments", "team-*"]
    assert role["token_policies"] == ["payments-read"]
    assert (role["token_ttl"], role["token_max_ttl"]) == (1200, 3600)
    assert role["audience"] == "vault"
    assert role["alias_name_source"] == "serviceaccount_uid"
    assert k8s.read_role("other", mount_point=mount)["alias_name_source"] == "serviceaccount_name"
    assert k8s.list_roles(mount_point=mount)["keys"] == ["api", "other"]
    k8s.delete_role("api", mount_point=mount)
    with pytest.raises(hvac.exceptions.InvalidPath):
        k8s.read_role("api", mount_point=mount)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_workload_logs_in_with_its_service_account_token_and_reads_its_secret(
        k8s_root: hvac.Client, mount: str, cluster: Cluster, alg: str) -> None:
    policy = unique("payments-read")
    k8s_root.sys.create_or_update_policy(policy, 'path "secret/data/payments/*" { capabilities = ["read"] }')
    k8s_root.secrets.kv.v2.create_or_update_secret("payments/db", secret={"password": "s3cret"})
    k8s_root.auth.kubernetes.create_role("api", ["api"], ["payments"], policies=[policy], ttl="30m",
                                         mount_point=mount)
    workload = client(k8s_root.url)
    answer = workload.auth.kubernetes.login("api", cluster.token(alg=alg, uid="uid-7"), mount_point=mount)
    auth = answer["auth"]
    assert sorted(auth["policies"]) == sorted(["default", policy])
    assert auth["lease_duration"] == 1800
    assert auth["metadata"] == {"service_account_name": "api", "service_account_namespace": "payments",
                                "service_account_uid": "uid-7", "service_account_secret_name": "",
                                "role": "api"}
    assert workload.is_authenticated()
    assert workload.auth.token.lookup_self()["data"]["path"] == f"auth/{mount}/login"
    read = workload.secrets.kv.v2.read_secret_version("payments/db", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"password": "s3cret"}
    with pytest.raises(hvac.exceptions.Forbidden):
        workload.secrets.kv.v2.read_secret_version("billing/db", raise_on_deleted_version=True)


def test_refused_logins_are_403(k8s_root: hvac.Client, mount: str, cluster: Cluster) -> None:
    k8s_root.auth.kubernetes.create_role("api", ["api"], ["payments"], audience=cluster.default_audiences[0],
                                         mount_point=mount)
    revoked = cluster.token()
    cluster.revoke(revoked)
    head, _, signature = cluster.token(namespace="billing").split(".")
    tampered = ".".join([head, cluster.token().split(".")[1], signature])
    for jwt in (cluster.token(namespace="billing"), cluster.token(name="admin"), cluster.token(audience="x"),
                cluster.token(cluster.claims(now=0)), revoked, tampered, "not-a-jwt"):
        workload = client(k8s_root.url)
        with pytest.raises(hvac.exceptions.Forbidden):
            workload.auth.kubernetes.login("api", jwt, mount_point=mount)
        assert not workload.is_authenticated()


def test_unknown_role_is_a_400(k8s_root: hvac.Client, mount: str, cluster: Cluster) -> None:
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role name"):
        client(k8s_root.url).auth.kubernetes.login("nobody", cluster.token(), mount_point=mount)


def test_without_the_operator_switch_a_loopback_api_server_is_not_reached(
        root: hvac.Client, cluster: Cluster, kubernetes_host: str) -> None:
    path = unique("kubernetes")
    root.sys.enable_auth_method("kubernetes", path=path)
    root.auth.kubernetes.configure(kubernetes_host, token_reviewer_jwt=REVIEWER_JWT, mount_point=path)
    root.auth.kubernetes.create_role("api", ["api"], ["payments"], mount_point=path)
    before = len(cluster.requests)
    with pytest.raises(hvac.exceptions.InternalServerError, match="loopback"):
        client(root.url).auth.kubernetes.login("api", cluster.token(), mount_point=path)
    assert len(cluster.requests) == before


def test_no_token_reaches_the_server_log_on_success_or_refusal(k8s_server: ServerProcess, k8s_root: hvac.Client,
                                                               mount: str, cluster: Cluster) -> None:
    k8s_root.auth.kubernetes.create_role("api", ["api"], ["payments"], mount_point=mount)
    good, stale = cluster.token(alg="ES256"), cluster.token(cluster.claims(now=0))
    client(k8s_root.url).auth.kubernetes.login("api", good, mount_point=mount)
    for jwt in (stale, cluster.token(namespace="billing")):
        with pytest.raises(hvac.exceptions.Forbidden) as refused:
            client(k8s_root.url).auth.kubernetes.login("api", jwt, mount_point=mount)
        assert jwt.split(".")[2] not in str(refused.value)
    log = k8s_server.log_text()
    for secret in (REVIEWER_JWT, good.split(".")[2], stale.split(".")[2], good.split(".")[1]):
        assert secret not in log
