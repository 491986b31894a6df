"""Rate-limit quotas hold on the login path of every auth method (issue #6: "lockout and rate limits apply to
every login path, not only userpass").

Login lockout needs a principal the method can name before the login succeeds (userpass, AppRole; see
docs/auth.md); Kubernetes, JWT/OIDC and cert logins have none worth counting, so for them the quota is the
brake on guessing. Each method is mounted twice: a quota on one mount's login limits that login only, is
counted before the method reads the body (a flood of garbage is limited like good logins) and lifts when the
interval passes on the test's clock.
"""

from __future__ import annotations

import pytest
from tests.alerts.test_quotas_api import put_quota, quotas  # noqa: F401  (quotas is a fixture)
from tests.support.inprocess import InProcessServer
from tests.unit.auth.jwt.jwt_auth_harness import Issuer, public_pem

from strongroom.sdk.system import ManualClock

# (method type, login path under the mount, a login body the method refuses)
METHODS = [
    ("userpass", "login/alice", {"password": "wrong"}),
    ("approle", "login", {"role_id": "no-such-role", "secret_id": "no-such-secret"}),
    ("kubernetes", "login", {"role": "web", "jwt": "x.y.z"}),
    ("jwt", "login", {"role": "ci", "jwt": "x.y.z"}),
    ("oidc", "login", {"role": "ci", "jwt": "x.y.z"}),
    ("cert", "login", {}),
]
LIMITED = 429


def _login(server: InProcessServer, mount: str, path: str, body: dict[str, str]) -> int:
    return server.request("POST", f"auth/{mount}/{path}", json=body).status_code


@pytest.mark.parametrize(("kind", "path", "body"), METHODS, ids=[m[0] for m in METHODS])
def test_a_quota_on_a_login_path_limits_that_login_only(
    quotas: InProcessServer, clock: ManualClock, kind: str, path: str, body: dict[str, str]  # noqa: F811
) -> None:
    for mount in (f"{kind}-a", f"{kind}-b"):
        assert quotas.request("POST", f"sys/auth/{mount}", json={"type": kind}).status_code == 204
    put_quota(quotas, "login", rate=2, interval="1m", path=f"auth/{kind}-a/{path}")

    answers = [_login(quotas, f"{kind}-a", path, body) for _ in range(3)]
    assert answers[0] == answers[1] != LIMITED  # the method's own refusal, twice
    assert 400 <= answers[0] < 500
    assert answers[2] == LIMITED
    refused = quotas.request("POST", f"auth/{kind}-a/{path}", json=body)
    assert refused.json() == {"errors": [f'request path "auth/{kind}-a/{path}": rate limit quota exceeded']}

    # The same method's other mount keeps answering for itself.
    assert [_login(quotas, f"{kind}-b", path, body) for _ in range(4)] == [answers[0]] * 4

    clock.advance(60)
    assert _login(quotas, f"{kind}-a", path, body) == answers[0]


def test_a_quota_on_an_auth_mount_stops_good_logins_too(quotas: InProcessServer) -> None:  # noqa: F811
    """The quota is counted before the password is checked: a right password past the rate gets no token."""
    assert quotas.request("POST", "sys/auth/userpass", json={"type": "userpass"}).status_code == 204
    assert quotas.request("POST", "auth/userpass/users/alice", json={"password": "right-horse"}).status_code == 204
    put_quota(quotas, "people", rate=1, interval="1m", path="auth/userpass/")
    assert _login(quotas, "userpass", "login/alice", {"password": "wrong"}) == 400
    refused = quotas.request("POST", "auth/userpass/login/alice", json={"password": "right-horse"})
    assert refused.status_code == LIMITED
    assert "auth" not in refused.json()
    assert "right-horse" not in refused.text


# -- quotas with a role (Vault's ``role`` on an auth mount's quota) ------------------------------------------------


def _approle(server: InProcessServer, name: str) -> dict[str, str]:
    assert server.request("POST", f"auth/approle/role/{name}", json={"token_policies": ["default"]}
                          ).status_code == 204
    role_id = server.request("GET", f"auth/approle/role/{name}/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", f"auth/approle/role/{name}/secret-id").json()["data"]["secret_id"]
    return {"role_id": role_id, "secret_id": secret_id}


def test_a_role_quota_limits_the_logins_of_that_approle_role_only(quotas: InProcessServer) -> None:  # noqa: F811
    assert quotas.request("POST", "sys/auth/approle", json={"type": "approle"}).status_code == 204
    web, batch = _approle(quotas, "web"), _approle(quotas, "batch")
    put_quota(quotas, "path", rate=100, path="auth/approle/login")
    put_quota(quotas, "web-logins", rate=1, interval="1m", path="auth/approle", role="Web")
    assert quotas.request("GET", "sys/quotas/rate-limit/web-logins").json()["data"]["role"] == "Web"

    assert _login(quotas, "approle", "login", web) == 200
    # The role quota wins over the more specific path quota, and counts by role, not by secret ID.
    assert _login(quotas, "approle", "login", web) == LIMITED
    assert _login(quotas, "approle", "login", {"role_id": web["role_id"], "secret_id": "wrong"}) == LIMITED
    assert [_login(quotas, "approle", "login", batch) for _ in range(3)] == [200, 200, 200]
    # A role ID that names no role is under the path quota only.
    assert _login(quotas, "approle", "login", {"role_id": "nobody", "secret_id": "x"}) == 400


@pytest.mark.parametrize("kind", ["kubernetes", "jwt"])
def test_a_role_quota_limits_logins_that_name_that_role(quotas: InProcessServer, kind: str) -> None:  # noqa: F811
    assert quotas.request("POST", f"sys/auth/{kind}", json={"type": kind}).status_code == 204
    put_quota(quotas, "web-logins", rate=2, interval="1m", path=f"auth/{kind}/", role="web")
    refused = _login(quotas, kind, "login", {"role": "web", "jwt": "x.y.z"})
    assert refused in (400, 403)
    assert [_login(quotas, kind, "login", {"role": r, "jwt": "x.y.z"}) for r in ("web", "WEB", "web")] == [
        refused, LIMITED, LIMITED]
    assert [_login(quotas, kind, "login", {"role": "api", "jwt": "x.y.z"}) for _ in range(3)] == [refused] * 3


def test_a_jwt_login_without_a_role_is_counted_under_the_default_role(quotas: InProcessServer) -> None:  # noqa: F811
    issuer = Issuer()
    assert quotas.request("POST", "sys/auth/jwt", json={"type": "jwt"}).status_code == 204
    config = {"jwt_validation_pubkeys": [public_pem(issuer.keys["rsa-1"])], "default_role": "ci"}
    assert quotas.request("POST", "auth/jwt/config", json=config).status_code == 204
    put_quota(quotas, "ci-logins", rate=1, interval="1m", path="auth/jwt", role="ci")
    assert [_login(quotas, "jwt", "login", {"jwt": "x.y.z"}) for _ in range(2)] == [400, LIMITED]


@pytest.mark.parametrize(("body", "message"), [
    ({"rate": 1, "role": "web"}, "'role' needs 'path' to be an auth mount"),
    ({"rate": 1, "role": "web", "path": "secret/"}, "'role' needs 'path' to be an auth mount"),
    ({"rate": 1, "role": "web", "path": "auth/approle/login"}, "'role' needs 'path' to be an auth mount"),
    ({"rate": 1, "role": "web", "path": "auth/userpass"}, "userpass has none"),
])
def test_a_role_needs_an_auth_mount_with_roles(quotas: InProcessServer, body: dict[str, object],  # noqa: F811
                                              message: str) -> None:
    for kind in ("approle", "userpass"):
        assert quotas.request("POST", f"sys/auth/{kind}", json={"type": kind}).status_code == 204
    reply = quotas.request("POST", "sys/quotas/rate-limit/bad", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][0]
    assert quotas.request("GET", "sys/quotas/rate-limit/bad").status_code == 404


def test_a_role_quota_on_an_auth_mount_inside_a_namespace(quotas: InProcessServer) -> None:  # noqa: F811
    team = {"X-Vault-Namespace": "team"}
    assert quotas.request("POST", "sys/namespaces/team").status_code == 200
    assert quotas.request("POST", "sys/auth/kubernetes", json={"type": "kubernetes"}, headers=team
                          ).status_code == 204
    assert quotas.request("POST", "sys/auth/kubernetes", json={"type": "kubernetes"}).status_code == 204
    put_quota(quotas, "team-web", rate=1, interval="1m", path="team/auth/kubernetes", role="web")
    assert quotas.request("GET", "sys/quotas/rate-limit/team-web").json()["data"]["path"] == "team/auth/kubernetes/"
    body = {"role": "web", "jwt": "x.y.z"}
    answers = [quotas.request("POST", "auth/kubernetes/login", json=body, headers=team).status_code
               for _ in range(2)]
    assert answers[0] != LIMITED
    assert answers[1] == LIMITED
    assert quotas.request("POST", "team/auth/kubernetes/login", json=body).status_code == LIMITED  # path prefix
    # The root namespace's mount of the same name is another mount.
    assert [_login(quotas, "kubernetes", "login", body) for _ in range(3)] == [answers[0]] * 3
