"""Leases through the whole request path (in-process server): issue, lookup, renew, revoke, sudo, tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from leases_harness import Target, leasing_server
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock


@pytest.fixture
def server() -> Iterator[tuple[InProcessServer, Target, ManualClock]]:
    with leasing_server() as started:
        yield started


def test_a_leased_secret_answers_with_lease_id_duration_and_renewable(server: tuple[InProcessServer, Target,
                                                                                      ManualClock]) -> None:
    srv, _, _ = server
    body = srv.request("POST", "fake/creds/web", json={"ttl": "1h"}).json()
    assert body["lease_id"].startswith("fake/creds/web/")
    assert body["lease_duration"] == 3600
    assert body["renewable"] is True


def test_lookup_renew_and_revoke_speak_vaults_shapes(server: tuple[InProcessServer, Target, ManualClock]) -> None:
    srv, target, clock = server
    lease_id = srv.request("POST", "fake/creds/web", json={"ttl": "1h", "max_ttl": "2h"}).json()["lease_id"]
    looked = srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).json()["data"]
    assert looked["id"] == lease_id
    assert looked["ttl"] == 3600
    assert looked["renewable"] is True
    assert looked["last_renewal"] is None
    clock.advance(600)
    renewed = srv.request("PUT", "sys/leases/renew", json={"lease_id": lease_id, "increment": "3h"}).json()
    assert renewed["lease_id"] == lease_id
    assert renewed["lease_duration"] == 7200 - 600
    assert srv.request("PUT", f"sys/leases/revoke/{lease_id}").status_code == 204
    assert target.revoked == ["web-1"]
    gone = srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id})
    assert gone.status_code == 400


def test_list_of_lookup_prefix_needs_sudo_and_lists_children(server: tuple[InProcessServer, Target,
                                                                           ManualClock]) -> None:
    srv, _, _ = server
    srv.request("POST", "fake/creds/web")
    assert srv.request("LIST", "sys/leases/lookup/fake/creds").json()["data"]["keys"] == ["web/"]
    policy = 'path "sys/leases/*" { capabilities = ["update", "list", "read"] }'
    srv.request("PUT", "sys/policies/acl/leases", json={"policy": policy})
    token = srv.request("POST", "auth/token/create", json={"policies": ["leases"]}).json()["auth"]["client_token"]
    assert srv.request("LIST", "sys/leases/lookup/fake/creds", token=token).status_code == 403
    assert srv.request("PUT", "sys/leases/revoke-prefix/fake", token=token).status_code == 403
    assert srv.request("PUT", "sys/leases/revoke-force/fake", token=token).status_code == 403


def test_revoke_prefix_and_legacy_aliases(server: tuple[InProcessServer, Target, ManualClock]) -> None:
    srv, target, _ = server
    first = srv.request("POST", "fake/creds/a").json()["lease_id"]
    srv.request("POST", "fake/creds/b")
    assert srv.request("PUT", f"sys/revoke/{first}").status_code == 204
    assert srv.request("PUT", "sys/revoke-prefix/fake/creds").status_code == 204
    assert sorted(target.revoked) == ["a-1", "b-2"]


def test_revoking_a_token_revokes_the_leases_it_obtained(server: tuple[InProcessServer, Target,
                                                                       ManualClock]) -> None:
    srv, target, _ = server
    child = srv.request("POST", "auth/token/create", json={"policies": ["root"]}).json()["auth"]["client_token"]
    lease_id = srv.request("POST", "fake/creds/db", token=child).json()["lease_id"]
    srv.request("POST", "fake/creds/kept")
    assert srv.request("POST", "auth/token/revoke", json={"token": child}).status_code == 204
    assert target.revoked == ["db-1"]
    assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400


def test_the_expiry_loop_revokes_an_expired_lease_on_the_injected_clock(server: tuple[InProcessServer, Target,
                                                                                       ManualClock]) -> None:
    srv, target, clock = server
    srv.request("POST", "fake/creds/db", json={"ttl": "30s"})
    clock.advance(31)
    srv.run(srv.core.leases.expire_due())
    assert target.revoked == ["db-1"]


def test_a_failed_revoke_is_a_500_that_keeps_the_lease_and_says_it_will_retry(
    server: tuple[InProcessServer, Target, ManualClock],
) -> None:
    srv, target, _ = server
    lease_id = srv.request("POST", "fake/creds/db").json()["lease_id"]
    target.down = True
    answer = srv.request("PUT", "sys/leases/revoke", json={"lease_id": lease_id})
    assert answer.status_code == 500
    assert "will be retried" in answer.json()["errors"][0]
    looked = srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).json()["data"]
    assert looked["revocation_attempts"] == 1
    assert looked["renewable"] is False


def test_revoke_force_forgets_leases_without_calling_the_target(server: tuple[InProcessServer, Target,
                                                                             ManualClock]) -> None:
    srv, target, clock = server
    lease_id = srv.request("POST", "fake/creds/db").json()["lease_id"]
    assert srv.request("PUT", "sys/leases/revoke-force/fake").status_code == 204
    clock.advance(10**7)
    srv.run(srv.core.leases.expire_due())
    assert target.revoked == []
    assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400


def test_a_mount_that_issues_no_leases_gets_no_lease_id(server: tuple[InProcessServer, Target,
                                                                      ManualClock]) -> None:
    srv, _, _ = server
    srv.request("POST", "sys/mounts/kv1", json={"type": "kv"})
    srv.request("PUT", "kv1/x", json={"a": "b", "ttl": "1h"})
    body = srv.request("GET", "kv1/x").json()
    assert body["lease_id"] == ""
    assert body["lease_duration"] == 3600


def test_disabling_a_mount_revokes_its_leases_first(server: tuple[InProcessServer, Target, ManualClock]) -> None:
    srv, target, _ = server
    lease_id = srv.request("POST", "fake/creds/db").json()["lease_id"]
    target.down = True
    refused = srv.request("DELETE", "sys/mounts/fake")
    assert refused.status_code == 500
    assert "stays mounted" in refused.json()["errors"][0]
    assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 200
    target.down = False
    assert srv.request("DELETE", "sys/mounts/fake").status_code == 204
    assert target.revoked == ["db-1"]
    assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400


def test_a_tuned_mount_max_caps_issue_and_renewal(server: tuple[InProcessServer, Target, ManualClock]) -> None:
    srv, _, clock = server
    assert srv.request("POST", "sys/mounts/fake/tune", json={"max_lease_ttl": "10m"}).status_code == 204
    issued = srv.request("POST", "fake/creds/web", json={"ttl": "1h"}).json()
    assert issued["lease_duration"] == 600
    clock.advance(300)
    renewed = srv.request("PUT", "sys/leases/renew", json={"lease_id": issued["lease_id"], "increment": "1h"})
    assert renewed.json()["lease_duration"] == 300
