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
