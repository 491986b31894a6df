"""Kubernetes logins that succeed: RS256 and ES256 tokens, through TokenReview (plain and TLS) or pem_keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from k8s_auth_harness import REVIEWER_JWT, Cluster, D, L, Mount, R, U, api_server, run

from strongroom.errors import InternalError, PermissionDenied


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture(scope="module")
def host(cluster: Cluster) -> Iterator[str]:
    with api_server(cluster) as (address, _):
        yield address


async def configured(config: dict[str, object], **role: object) -> Mount:
    mount = Mount()
    await mount.call(U, "config", config)
    body: dict[str, object] = {"bound_service_account_names": ["api"], "bound_service_account_namespaces": ["payments"],
                               "token_policies": ["payments-read"], "token_ttl": "20m"}
    body.update(role)
    await mount.call(U, "role/api", body)
    return mount


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_login_through_token_review_answers_auth_with_service_account_metadata(
        cluster: Cluster, host: str, alg: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT})
        auth = (await mount.login(cluster.token(alg=alg, uid="1f0c-uid"))).auth
        assert auth is not None
        assert auth.policies == ["payments-read"]
        assert auth.ttl == 1200
        assert auth.alias_name == "1f0c-uid"
        assert auth.display_name == "payments-api"
        assert auth.metadata == {"service_account_name": "api", "service_account_namespace": "payments",
                                 "service_account_uid": "1f0c-uid", "service_account_secret_name": "",
                                 "role": "api"}
        review = cluster.requests[-1]
        assert review["bearer"] == REVIEWER_JWT
        assert review["body"]["kind"] == "TokenReview"
        assert review["body"]["apiVersion"] == "authentication.k8s.io/v1"

    run(main())


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_login_against_pem_keys_needs_no_api_server(cluster: Cluster, alg: str) -> None:
    async def main() -> None:
        mount = await configured({"pem_keys": cluster.pem_keys()})
        before = len(cluster.requests)
        auth = (await mount.login(cluster.token(alg=alg))).auth
        assert auth is not None
        assert auth.metadata["service_account_uid"] == "uid-payments-api"
        assert len(cluster.requests) == before

    run(main())


def test_without_a_reviewer_jwt_the_clients_own_token_authorises_the_review(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host})
        jwt = cluster.token()
        await mount.login(jwt)
        assert cluster.requests[-1]["bearer"] == jwt

    run(main())


def test_the_pods_own_token_is_the_reviewer_unless_disabled(cluster: Cluster, host: str, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(REVIEWER_JWT + "\n")

    async def main() -> None:
        mount = Mount(local_dir=str(tmp_path))
        await mount.call(U, "config", {"kubernetes_host": host})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        await mount.login(cluster.token())
        assert cluster.requests[-1]["bearer"] == REVIEWER_JWT
        await mount.call(U, "config", {"kubernetes_host": host, "disable_local_ca_jwt": True})
        jwt = cluster.token()
        await mount.login(jwt)
        assert cluster.requests[-1]["bearer"] == jwt

    run(main())


def test_role_audience_is_sent_to_token_review_and_must_be_confirmed(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT}, audience="vault")
        await mount.login(cluster.token(audience=["vault", "other"]))
        assert cluster.requests[-1]["body"]["spec"]["audiences"] == ["vault"]

    run(main())


def test_token_review_over_tls_is_verified_with_the_configured_ca(cluster: Cluster) -> None:
    async def main() -> None:
        with api_server(cluster, tls=True) as (address, ca_pem):
            mount = await configured({"kubernetes_host": address, "kubernetes_ca_cert": ca_pem,
                                      "token_reviewer_jwt": REVIEWER_JWT})
            assert (await mount.login(cluster.token())).auth is not None
            # Without the cluster's CA the server's certificate is not trusted: no review, no login.
            other = await configured({"kubernetes_host": address, "token_reviewer_jwt": REVIEWER_JWT})
            with pytest.raises(InternalError, match="TLS handshake failed"):
                await other.login(cluster.token())

    run(main())


def test_globs_bind_names_and_namespaces(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT},
                                 bound_service_account_names=["api-*"], bound_service_account_namespaces=["team-*"])
        await mount.login(cluster.token(namespace="team-a", name="api-web"))
        with pytest.raises(PermissionDenied, match="namespace not authorized"):
            await mount.login(cluster.token(namespace="teamless", name="api-web"))
        await mount.call(U, "role/any", {"bound_service_account_names": "*", "bound_service_account_namespaces": "*"})
        await mount.login(cluster.token(namespace="anything", name="whatever"), role="any")

    run(main())


def test_alias_is_the_uid_so_a_recreated_service_account_gets_a_new_identity(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT})
        first = (await mount.login(cluster.token(uid="uid-first"))).auth
        second = (await mount.login(cluster.token(uid="uid-recreated"))).auth
        assert first is not None
        assert second is not None
        assert first.alias_name == "uid-first"
        assert second.alias_name == "uid-recreated"

    run(main())


def test_alias_name_source_serviceaccount_name_uses_namespace_and_name(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT},
                                 alias_name_source="serviceaccount_name")
        auth = (await mount.login(cluster.token(uid="uid-x"))).auth
        assert auth is not None
        assert auth.alias_name == "payments/api"

    run(main())


def test_legacy_secret_token_logs_in_with_its_secret_name(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT})
        auth = (await mount.login(cluster.legacy_token(uid="uid-legacy"))).auth
        assert auth is not None
        assert auth.metadata["service_account_secret_name"] == "api-token-x7k2p"
        assert auth.alias_name == "uid-legacy"

    run(main())


def test_issuer_is_checked_when_validation_is_enabled(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT,
                                  "issuer": cluster.issuer, "disable_iss_validation": False})
        await mount.login(cluster.token())
        config = await mount.data(R, "config")
        assert config["disable_iss_validation"] is False
        assert config["issuer"] == cluster.issuer

    run(main())


def test_token_bound_cidrs_limit_where_a_login_may_come_from(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT},
                                 token_bound_cidrs=["10.0.0.0/8"])
        auth = (await mount.login(cluster.token(), remote_addr="10.9.9.9")).auth
        assert auth is not None
        assert auth.bound_cidrs == ["10.0.0.0/8"]
        with pytest.raises(PermissionDenied):
            await mount.login(cluster.token(), remote_addr="192.0.2.1")

    run(main())


def test_a_deleted_role_no_longer_logs_in(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT})
        await mount.call(D, "role/api")
        assert (await mount.data(L, "role/"))["keys"] == []
        with pytest.raises(Exception, match="invalid role name") as refused:
            await mount.login(cluster.token())
        assert getattr(refused.value, "status", None) == 400

    run(main())


def test_namespace_selector_admits_namespaces_by_their_labels(cluster: Cluster, host: str) -> None:
    cluster.namespace_labels["team-pay"] = {"team": "payments", "env": "prod"}
    cluster.namespace_labels["team-ops"] = {"team": "ops", "env": "prod"}
    selector = ('{"matchLabels": {"env": "prod"}, "matchExpressions": '
                '[{"key": "team", "operator": "In", "values": ["payments", "billing"]}]}')

    async def main() -> None:
        mount = await configured({"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT},
                                 bound_service_account_namespaces=["payments"],
                                 bound_service_account_namespace_selector=selector)
        auth = (await mount.login(cluster.token(namespace="team-pay"))).auth
        assert auth is not None
        assert auth.metadata["service_account_namespace"] == "team-pay"
        assert cluster.lookups[-1] == "/api/v1/namespaces/team-pay"
        with pytest.raises(PermissionDenied, match="namespace not authorized"):
            await mount.login(cluster.token(namespace="team-ops"))
        # A namespace bound by name needs no lookup.
        before = len(cluster.lookups)
        await mount.login(cluster.token(namespace="payments"))
        assert len(cluster.lookups) == before

    run(main())
