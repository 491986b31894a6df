"""Kubernetes service-account tokens checked locally against the cluster's published keys (issue #6).

A cluster's API server is an OIDC issuer: it serves a discovery document and a JWKS of the keys that sign
projected service-account tokens. As in Vault, validating those tokens without TokenReview is the JWT
method's job (the Kubernetes method takes ``pem_keys`` or asks TokenReview; docs/auth-kubernetes.md). Here
the test's issuer publishes a cluster's RSA and EC keys, tokens are shaped and signed like a cluster's
(``k8s_auth_harness.Cluster``), and a role binds namespace and service account through JSON pointers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, Mount, U, issuer_server, run
from tests.unit.auth.kubernetes.k8s_auth_harness import Cluster

from strongroom.errors import PermissionDenied

KIDS = {"RS256": "sa-rsa", "ES256": "sa-ec"}


class ClusterIssuer:
    """One cluster: its signing keys published by an OIDC issuer whose URL is the tokens' ``iss``."""

    def __init__(self) -> None:
        self.cluster = Cluster(default_audiences=("vault",))
        self.issuer = Issuer(keys={KIDS["RS256"]: self.cluster.rsa_key, KIDS["ES256"]: self.cluster.ec_key})

    def token(self, alg: str = "RS256", claims: dict[str, Any] | None = None, **kwargs: Any) -> str:
        return self.issuer.token(claims if claims is not None else self.cluster.claims(**kwargs), kid=KIDS[alg])


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterIssuer]:
    found = ClusterIssuer()
    with issuer_server(found.issuer) as url:
        found.cluster.issuer = url
        yield found


@pytest.fixture(scope="module")
def mount(cluster: ClusterIssuer) -> Mount:
    mount = Mount()
    run(mount.call(U, "config", {"oidc_discovery_url": cluster.issuer.url}))
    run(mount.call(U, "role/payments", {
        "role_type": "jwt", "bound_audiences": ["vault"],
        "user_claim": "/kubernetes.io/serviceaccount/uid", "user_claim_json_pointer": True,
        "bound_claims_type": "glob",
        "bound_claims": {"/kubernetes.io/namespace": "payments",
                         "/kubernetes.io/serviceaccount/name": ["api", "job-*"]},
        "claim_mappings": {"/kubernetes.io/namespace": "service_account_namespace",
                           "/kubernetes.io/serviceaccount/name": "service_account_name"},
        "token_policies": ["payments-read"],
    }))
    return mount


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
@pytest.mark.parametrize("name", ["api", "job-nightly"])
def test_a_service_account_token_logs_in_against_the_clusters_jwks(cluster: ClusterIssuer, mount: Mount,
                                                                   alg: str, name: str) -> None:
    auth = run(mount.login(cluster.token(alg, name=name), role="payments")).auth
    assert auth is not None
    assert auth.alias_name == f"uid-payments-{name}"  # the account's uid: a recreated account is someone new
    assert auth.policies == ["payments-read"]
    assert auth.metadata == {"service_account_namespace": "payments", "service_account_name": name,
                             "role": "payments"}


def test_a_token_signed_by_another_cluster_is_refused(cluster: ClusterIssuer, mount: Mount) -> None:
    other = ClusterIssuer()
    other.cluster.issuer = cluster.issuer.url  # claims to be this cluster, signed with other keys, same kids
    for alg in KIDS:
        with pytest.raises(PermissionDenied, match="signature could not be verified"):
            run(mount.login(other.token(alg), role="payments"))


@pytest.mark.parametrize(("case", "make", "message"), [
    ("wrong namespace", lambda c: c.token(namespace="billing"), "'/kubernetes.io/namespace' does not match"),
    ("wrong name", lambda c: c.token(name="admin"), "'/kubernetes.io/serviceaccount/name' does not match"),
    ("glob does not reach across", lambda c: c.token(name="job"), "'/kubernetes.io/serviceaccount/name'"),
    ("wrong audience", lambda c: c.token(audience="https://kubernetes.default.svc"), "audience does not match"),
    ("expired", lambda c: c.token(now=c.cluster.claims()["iat"] - 7200, ttl=3600), "expired"),
    ("not yet valid", lambda c: c.token(claims={**c.cluster.claims(), "nbf": c.cluster.claims()["iat"] + 3600}),
     "not valid yet"),
    ("wrong issuer", lambda c: c.token(claims={**c.cluster.claims(), "iss": "https://evil.example"}),
     "issuer does not match"),
    ("no service account", lambda c: c.token(claims={k: v for k, v in c.cluster.claims().items()
                                                     if k != "kubernetes.io"}), "missing"),
])
def test_service_account_tokens_outside_the_role_are_refused(cluster: ClusterIssuer, mount: Mount, case: str,
                                                            make: Any, message: str) -> None:
    with pytest.raises(PermissionDenied, match=message):
        run(mount.login(make(cluster), role="payments"))

