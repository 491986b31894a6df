"""Tokens as leases (in-process server, ManualClock): every token with a TTL has a lease that
sys/leases lists, looks up and revokes, and the expiry loop ends an expired token on time,
taking its child tokens and their leases along, without anyone presenting the token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from leases_harness import Target, leasing_server
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock

Server = tuple[InProcessServer, Target, ManualClock]


@pytest.fixture
def server() -> Iterator[Server]:
    with leasing_server() as started:
        yield started


def create(srv: InProcessServer, token: str | None = None, **body: object) -> dict[str, str]:
    answer = srv.request("POST", "auth/token/create", token=token, json={"policies": ["root"], **body})
    assert answer.status_code == 200, answer.text
    auth: dict[str, str] = answer.json()["auth"]
    return auth


def lease_ids(srv: InProcessServer, prefix: str) -> list[str]:
    answer = srv.request("LIST", f"sys/leases/lookup/{prefix}")
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    keys: list[str] = answer.json()["data"]["keys"]
    return keys


def token_alive(srv: InProcessServer, token: str) -> bool:
    return srv.request("GET", "auth/token/lookup-self", token=token).status_code == 200


def test_a_token_with_a_ttl_is_listed_and_looked_up_as_a_lease(server: Server) -> None:
    srv, _, clock = server
    create(srv, ttl="1h")
    (hashed,) = lease_ids(srv, "auth/token/create/")
    assert lease_ids(srv, "auth/token/") == ["create/"]
    lease_id = f"auth/token/create/{hashed}"
    clock.advance(600)
    looked = srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id})
    assert looked.status_code == 200, looked.text
    data = looked.json()["data"]
    assert data["id"] == lease_id
    assert data["ttl"] == 3000
    assert data["renewable"] is True
    # Root tokens without a TTL never expire and have no lease, as in Vault.
    create(srv)
    assert len(lease_ids(srv, "auth/token/create/")) == 1
    # A token lease is renewed through auth/token/renew, not sys/leases/renew.
    renew = srv.request("PUT", "sys/leases/renew", json={"lease_id": lease_id})
    assert renew.status_code == 400
    assert "auth/token/renew" in renew.json()["errors"][0]


def test_renewing_the_token_moves_its_lease(server: Server) -> None:
    srv, _, clock = server
    auth = create(srv, ttl="1h", explicit_max_ttl="5h")
    (hashed,) = lease_ids(srv, "auth/token/create/")
    clock.advance(3000)
    assert srv.request("POST", "auth/token/renew-self", token=auth["client_token"],
                       json={"increment": "2h"}).status_code == 200
    clock.advance(1200)  # past the original hour
    srv.run(srv.core.leases.expire_due())
    assert token_alive(srv, auth["client_token"])
    data = srv.request("PUT", "sys/leases/lookup", json={"lease_id": f"auth/token/create/{hashed}"}).json()["data"]
    assert data["ttl"] == 7200 - 1200


def test_revoke_prefix_of_auth_token_revokes_the_tokens(server: Server) -> None:
    srv, _, _ = server
    tokens = [create(srv, ttl="1h")["client_token"] for _ in range(3)]
    kept = create(srv)["client_token"]  # no TTL: no lease, untouched
    answer = srv.request("PUT", "sys/leases/revoke-prefix/auth/token/")
    assert answer.status_code == 204, answer.text
    assert not any(token_alive(srv, token) for token in tokens)
    assert token_alive(srv, kept)
    assert lease_ids(srv, "auth/token/create/") == []


def test_revoking_a_token_lease_revokes_the_token_and_its_children(server: Server) -> None:
    srv, target, _ = server
    parent = create(srv, ttl="1h")["client_token"]
    child = create(srv, token=parent, ttl="30m")["client_token"]
    lease = srv.request("POST", "fake/creds/db", token=child).json()["lease_id"]
    (parent_hash,) = [h for h in lease_ids(srv, "auth/token/create/")
                      if srv.request("PUT", "sys/leases/lookup",
                                     json={"lease_id": f"auth/token/create/{h}"}).json()["data"]["ttl"] == 3600]
    assert srv.request("PUT", "sys/leases/revoke", json={"lease_id": f"auth/token/create/{parent_hash}"}
                       ).status_code == 204
    assert not token_alive(srv, parent)
    assert not token_alive(srv, child)
    assert target.revoked == ["db-1"]
    assert srv.request("PUT", "sys/leases/lookup", json={"lease_id": lease}).status_code == 400


def test_the_expiry_loop_revokes_an_expired_token_its_children_and_their_leases_on_time(server: Server) -> None:
    srv, target, clock = server
    parent = create(srv, ttl="1h")["client_token"]
    child = create(srv, token=parent, ttl="10h")["client_token"]
    srv.request("POST", "fake/creds/db", token=child, json={"ttl": "20h"})
    stored = srv.run(srv.core.tokens.stored_count())
    clock.advance(3599)
    srv.run(srv.core.leases.expire_due())
    assert srv.run(srv.core.tokens.stored_count()) == stored
    assert target.revoked == []
    clock.advance(2)
    srv.run(srv.core.leases.expire_due())
    # Nobody presented either token: the loop revoked the parent, its child, and the child's lease.
    assert srv.run(srv.core.tokens.stored_count()) == stored - 2
    assert target.revoked == ["db-1"]
    assert lease_ids(srv, "auth/token/create/") == []
    assert not token_alive(srv, child)


def test_an_explicit_max_ttl_before_the_ttl_is_when_the_lease_ends(server: Server) -> None:
    srv, _, clock = server
    create(srv, ttl="2h", explicit_max_ttl="30m")
    stored = srv.run(srv.core.tokens.stored_count())
    clock.advance(30 * 60 + 1)
    srv.run(srv.core.leases.expire_due())
    assert srv.run(srv.core.tokens.stored_count()) == stored - 1


def test_login_tokens_have_leases_under_their_login_path(server: Server) -> None:
    srv, _, _ = server
    assert srv.request("POST", "sys/auth/userpass", json={"type": "userpass"}).status_code == 204
    assert srv.request("POST", "auth/userpass/users/bob", json={"password": "pw-123456", "token_ttl": "1h"}
                       ).status_code == 204
    login = srv.request("POST", "auth/userpass/login/bob", token="", json={"password": "pw-123456"})
    assert login.status_code == 200, login.text
    # Vault puts the login path with the user name first; ours is the mount's login path.
    assert len(lease_ids(srv, "auth/userpass/login/")) == 1
    assert srv.request("PUT", "sys/leases/revoke-prefix/auth/userpass/").status_code == 204
    assert not token_alive(srv, login.json()["auth"]["client_token"])
