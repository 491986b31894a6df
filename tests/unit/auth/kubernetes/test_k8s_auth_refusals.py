"""Every forged, stale, misdirected or malformed service-account token is refused with a clear answer.

Each case runs against both ways of checking a token: the cluster's TokenReview
(a real HTTP server on 127.0.0.1 that verifies tokens with its own keys) and
local verification against ``pem_keys``. None of the refusals echoes the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest
from k8s_auth_harness import REVIEWER_JWT, Cluster, Mount, U, api_server, b64, compact, public_pem, run, sign

from strongroom.errors import StrongroomError

Forge = Callable[[Cluster], str]


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    """A cluster whose tokens are meant for "vault" by default (the role below demands it)."""
    return Cluster(default_audiences=("vault",))


@pytest.fixture(scope="module")
def host(cluster: Cluster) -> Iterator[str]:
    with api_server(cluster) as (address, _):
        yield address


def _hs256_with_public_key(cluster: Cluster) -> str:
    claims = cluster.claims()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    secret = public_pem(cluster.rsa_key).encode()
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


def _tampered(cluster: Cluster) -> str:
    """A genuine token whose payload was edited to name another namespace's service account."""
    head, _, signature = cluster.token(namespace="billing").split(".")
    body = b64(json.dumps(cluster.claims(namespace="payments")).encode())
    return f"{head}.{body}.{signature}"


def _revoked(cluster: Cluster) -> str:
    token = cluster.token()
    cluster.revoke(token)
    return token


NOW = time.time()
BAD_SIGNATURE = {"review": "service account unauthorized", "local": "signature could not be verified"}
# (case, forge, expected message fragment (or one per mode), modes it applies to: "review", "local")
CASES: list[tuple[str, Forge, str | dict[str, str], tuple[str, ...]]] = [
    ("expired", lambda c: c.token(c.claims(now=NOW - 7200, ttl=3600)), "JWT has expired", ("review", "local")),
    ("not yet valid", lambda c: c.token({**c.claims(), "nbf": int(NOW) + 3600}), "JWT is not valid yet",
     ("review", "local")),
    ("wrong audience", lambda c: c.token(audience="someone-else"), "audience does not match", ("review", "local")),
    ("wrong issuer", lambda c: c.token({**c.claims(), "iss": "https://evil.example"}), "issuer", ("review", "local")),
    ("wrong namespace", lambda c: c.token(namespace="billing"), "namespace not authorized", ("review", "local")),
    ("wrong name", lambda c: c.token(name="admin"), "service account name not authorized", ("review", "local")),
    ("no service account", lambda c: c.token({"iss": c.issuer, "aud": ["vault"]}),
     "does not name a service account", ("review", "local")),
    ("namespace that is a path", lambda c: c.token(namespace="../payments"), "not a valid Kubernetes name",
     ("review", "local")),
    ("name with a slash", lambda c: c.token(name="api/../admin"), "not a valid Kubernetes name", ("review", "local")),
    ("upper-case look-alike namespace", lambda c: c.token(namespace="Payments"), "not a valid Kubernetes name",
     ("review", "local")),
    ("revoked per TokenReview", _revoked, "service account unauthorized", ("review",)),
    ("tampered payload", _tampered, BAD_SIGNATURE, ("review", "local")),
    ("signed by another cluster's RSA key", lambda c: Cluster.token(ATTACKER, c.claims()), BAD_SIGNATURE,
     ("review", "local")),
    ("signed by another cluster's EC key", lambda c: Cluster.token(ATTACKER, c.claims(), alg="ES256"),
     BAD_SIGNATURE, ("review", "local")),
    ("RS256 header on an ES256 signature",
     lambda c: compact({"alg": "RS256"}, c.claims(), sign("ES256", c.ec_key, b"x")), BAD_SIGNATURE,
     ("review", "local")),
    ("padded base64", lambda c: c.token() + "==", "malformed JWT", ("review", "local")),
    ("alg none", lambda c: compact({"alg": "none", "typ": "JWT"}, c.claims(), b""), "algorithm is not accepted",
     ("review", "local")),
    ("alg None spelled oddly", lambda c: compact({"alg": "None"}, c.claims(), b"sig"), "algorithm is not accepted",
     ("review", "local")),
    ("HS256 signed with the public key", _hs256_with_public_key, "algorithm is not accepted", ("review", "local")),
    ("oversized", lambda c: c.token({**c.claims(), "pad": "A" * 20_000}), "too large", ("review", "local")),
    ("not a JWT", lambda c: "not-a-jwt", "malformed JWT", ("review", "local")),
    ("two parts", lambda c: "abc.def", "malformed JWT", ("review", "local")),
    ("bad base64", lambda c: b64(b'{"alg":"RS256"}') + ".$$$.c2ln", "malformed JWT", ("review", "local")),
    ("header not an object", lambda c: b64(b"[1]") + ".e30.c2ln", "malformed JWT", ("review", "local")),
    ("claims not JSON", lambda c: b64(b'{"alg":"RS256"}') + "." + b64(b"nope") + ".c2ln", "malformed JWT",
     ("review", "local")),
    ("exp not a number", lambda c: c.token({**c.claims(), "exp": "tomorrow"}), "not a number", ("review", "local")),
]
#: Another cluster (other keys): what an attacker who signs their own tokens has.
ATTACKER = Cluster(default_audiences=("vault",))


async def _mount(mode: str, cluster: Cluster, host: str) -> Mount:
    mount = Mount()
    config: dict[str, object] = {"issuer": cluster.issuer, "disable_iss_validation": False}
    if mode == "review":
        config |= {"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT}
    else:
        config |= {"pem_keys": cluster.pem_keys()}
    await mount.call(U, "config", config)
    await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                     "bound_service_account_namespaces": "payments",
                                     "audience": "vault", "token_policies": "payments-read"})
    return mount


@pytest.mark.parametrize("mode", ["review", "local"])
@pytest.mark.parametrize(("case", "forge", "message", "modes"), CASES, ids=[c[0] for c in CASES])
def test_forged_or_unusable_token_is_refused_with_403(cluster: Cluster, host: str, mode: str, case: str,
                                                      forge: Forge, message: str | dict[str, str],
                                                      modes: tuple[str, ...],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    if mode not in modes:
        # The case depends on cluster state a local check cannot see; the other mode covers it.
        return
    token = forge(cluster)
    expected = message if isinstance(message, str) else message[mode]

    async def main() -> None:
        mount = await _mount(mode, cluster, host)
        with caplog.at_level(logging.DEBUG), pytest.raises(StrongroomError) as refused:
            await mount.call(U, "login", {"role": "api", "jwt": token})
        assert refused.value.status == 403, refused.value.message
        assert expected in refused.value.message
        signature = token.rsplit(".", 1)[-1]
        assert len(signature) < 8 or signature not in refused.value.message
        assert len(signature) < 8 or signature not in caplog.text

    run(main())


def test_a_genuine_token_passes_the_same_mounts(cluster: Cluster, host: str) -> None:
    """The control for the table above: the same mounts accept an honest token, in both modes."""
    async def main() -> None:
        for mode in ("review", "local"):
            mount = await _mount(mode, cluster, host)
            response = await mount.login(cluster.token(audience="vault"))
            assert response.auth is not None

    run(main())


def test_tampered_token_is_refused_by_token_review_with_vaults_message(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await _mount("review", cluster, host)
        with pytest.raises(StrongroomError, match="service account unauthorized") as refused:
            await mount.login(_tampered(cluster))
        assert refused.value.status == 403

    run(main())


def test_tampered_token_is_refused_by_pem_keys(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await _mount("local", cluster, host)
        with pytest.raises(StrongroomError, match="signature could not be verified") as refused:
            await mount.login(_tampered(cluster))
        assert refused.value.status == 403

    run(main())


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"role": "nobody", "jwt": "x.y.z"}, 400, "invalid role name"),
    ({"role": "../role/api", "jwt": "x.y.z"}, 400, "invalid role name"),
    ({"role": "api"}, 400, "missing jwt"),
    ({"jwt": "x.y.z"}, 400, "missing role"),
])
def test_unknown_role_and_missing_fields_are_refused(cluster: Cluster, host: str, body: dict[str, str], status: int,
                                                     message: str) -> None:
    async def main() -> None:
        mount = await _mount("review", cluster, host)
        with pytest.raises(StrongroomError, match=message) as refused:
            await mount.call(U, "login", body)
        assert refused.value.status == status

    run(main())


def test_unreachable_reviewer_is_a_clear_error_not_a_crash(cluster: Cluster) -> None:
    async def main() -> None:
        with api_server(cluster) as (address, _):
            pass  # closed again: nothing listens on that port now
        mount = Mount()
        await mount.call(U, "config", {"kubernetes_host": address, "token_reviewer_jwt": REVIEWER_JWT})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        with pytest.raises(StrongroomError, match=r"TokenReview at '127\.0\.0\.1' is unreachable") as refused:
            await mount.login(cluster.token())
        assert refused.value.status == 500

    run(main())


def test_reviewer_jwt_the_cluster_refuses_is_reported(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = Mount()
        await mount.call(U, "config", {"kubernetes_host": host, "token_reviewer_jwt": "not-allowed-to-review"})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        with pytest.raises(StrongroomError, match=r"refused the reviewer's credentials \(HTTP 401\)") as refused:
            await mount.login(cluster.token())
        assert refused.value.status == 500
        assert "not-allowed-to-review" not in refused.value.message

    run(main())


def test_loopback_api_server_is_refused_by_the_default_egress_policy(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = Mount(allow_loopback=False)
        await mount.call(U, "config", {"kubernetes_host": host, "token_reviewer_jwt": REVIEWER_JWT})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        before = len(cluster.requests)
        with pytest.raises(StrongroomError, match="resolves to a loopback address"):
            await mount.login(cluster.token())
        assert len(cluster.requests) == before

    run(main())


@pytest.mark.parametrize("address", ["169.254.169.254", "0.0.0.0"])
def test_metadata_and_unspecified_hosts_are_never_reached(cluster: Cluster, address: str) -> None:
    async def main() -> None:
        mount = Mount(allow_loopback=True)
        await mount.call(U, "config", {"kubernetes_host": f"http://{address}", "token_reviewer_jwt": REVIEWER_JWT})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        with pytest.raises(StrongroomError, match="egress") as refused:
            await mount.login(cluster.token())
        assert refused.value.status == 500

    run(main())


def test_namespace_selector_needs_the_api_server_to_read_labels(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await _mount("local", cluster, host)
        await mount.call(U, "role/selected", {"bound_service_account_names": "api",
                                              "bound_service_account_namespace_selector": '{"matchLabels":{"a":"b"}}'})
        with pytest.raises(StrongroomError, match="needs kubernetes_host") as refused:
            await mount.login(cluster.token(), role="selected")
        assert refused.value.status == 403

    run(main())


def test_a_forged_token_never_makes_the_server_look_up_its_namespace(cluster: Cluster, host: str) -> None:
    async def main() -> None:
        mount = await _mount("review", cluster, host)
        await mount.call(U, "role/selected", {"bound_service_account_names": "api", "audience": "vault",
                                              "bound_service_account_namespace_selector": "matchLabels: {a: b}"})
        before = len(cluster.lookups)
        with pytest.raises(StrongroomError, match="service account unauthorized"):
            await mount.login(Cluster.token(ATTACKER, cluster.claims(namespace="kube-system")), role="selected")
        assert len(cluster.lookups) == before

    run(main())


def test_token_without_uid_cannot_name_a_uid_alias(cluster: Cluster) -> None:
    async def main() -> None:
        mount = Mount()
        await mount.call(U, "config", {"pem_keys": cluster.pem_keys()})
        await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                         "bound_service_account_namespaces": "payments"})
        claims = cluster.claims()
        claims["kubernetes.io"]["serviceaccount"]["uid"] = ""
        with pytest.raises(StrongroomError, match="UID is unknown") as refused:
            await mount.login(cluster.token(claims))
        assert refused.value.status == 403

    run(main())


def test_a_genuine_signature_does_not_vouch_for_other_claims(cluster: Cluster) -> None:
    """A real signature grafted onto an attacker's header and claims verifies nothing."""
    genuine = cluster.token().split(".")[2]
    forged = Cluster.token(ATTACKER, cluster.claims(name="admin")).split(".")[:2]

    async def main() -> None:
        mount = Mount()
        await mount.call(U, "config", {"pem_keys": cluster.pem_keys()})
        await mount.call(U, "role/api", {"bound_service_account_names": "*",
                                         "bound_service_account_namespaces": "payments"})
        with pytest.raises(StrongroomError, match="signature could not be verified"):
            await mount.login(".".join([*forged, genuine]))

    run(main())


@pytest.mark.parametrize(("how", "message"), [
    ("500", "answered HTTP 500"),
    ("no-user", "has no user"),
    ("not-json", "not JSON"),
    ("huge", "answered more than 1048576 bytes"),
    ("slow", "timed out"),
])
def test_misbehaving_api_server_is_a_clear_500_and_never_a_login(how: str, message: str) -> None:
    cluster = Cluster(rsa_key=ATTACKER.rsa_key, ec_key=ATTACKER.ec_key, misbehaviour=how)

    async def main() -> None:
        with api_server(cluster) as (address, _):
            mount = Mount(review_timeout=0.3)
            await mount.call(U, "config", {"kubernetes_host": address, "token_reviewer_jwt": REVIEWER_JWT})
            await mount.call(U, "role/api", {"bound_service_account_names": "api",
                                             "bound_service_account_namespaces": "payments"})
            with pytest.raises(StrongroomError, match=message) as refused:
                await mount.login(cluster.token())
            assert refused.value.status == 500

    run(main())


@pytest.mark.parametrize(("how", "message"), [
    ("other-uid", "different service account than the JWT names"),
    ("other-user", "different service account than the JWT names"),
    ("no-audiences", "did not confirm the role's audience"),
])
def test_token_review_answer_about_someone_else_is_refused_with_403(how: str, message: str) -> None:
    cluster = Cluster(rsa_key=ATTACKER.rsa_key, ec_key=ATTACKER.ec_key, misbehaviour=how)

    async def main() -> None:
        with api_server(cluster) as (address, _):
            mount = Mount()
            await mount.call(U, "config", {"kubernetes_host": address, "token_reviewer_jwt": REVIEWER_JWT})
            await mount.call(U, "role/api", {"bound_service_account_names": "api", "audience": "vault",
                                             "bound_service_account_namespaces": "payments"})
            with pytest.raises(StrongroomError, match=message) as refused:
                await mount.login(cluster.token(audience="vault"))
            assert refused.value.status == 403

    run(main())
