"""Which tokens the API accepts, and how: expired, revoked, garbage and missing tokens
are refused with Vault's 403 "permission denied"; X-Vault-Token and Authorization: Bearer work."""

from __future__ import annotations

import pytest
from tests.api.api_support import DENIED_BODY, create_token, raw_request, storage_snapshot, write_policy
from tests.support.inprocess import InProcessServer

from strongroom.sdk.system import ManualClock

READER = 'path "secret/data/*" { capabilities = ["read", "create", "update"] }'


@pytest.fixture
def reader(server: InProcessServer) -> InProcessServer:
    write_policy(server, "reader", READER)
    assert server.request("POST", "secret/data/app", json={"data": {"user": "alice"}}).status_code == 200
    return server


def assert_denied(server: InProcessServer, token: str) -> None:
    before = storage_snapshot(server)
    for method, path, body in (
        ("GET", "secret/data/app", None),
        ("POST", "secret/data/app", {"data": {"user": "mallory"}}),
        ("GET", "auth/token/lookup-self", None),
    ):
        reply = server.request(method, path, token=token, json=body)
        assert reply.status_code == 403, (method, path, reply.text)
        assert reply.json() == DENIED_BODY
    after = storage_snapshot(server)
    assert all(before.get(key) == value for key, value in after.items()), "a refused request wrote something"
    # The only thing a refused request may do is clean up the dead token's own records.
    assert all(key.startswith("sys/token/") for key in before.keys() - after.keys())
    assert server.request("GET", "secret/data/app").json()["data"]["data"] == {"user": "alice"}


def test_token_is_refused_once_its_ttl_has_passed(reader: InProcessServer, clock: ManualClock) -> None:
    token = create_token(reader, policies=["reader"], ttl="1s")
    assert reader.request("GET", "secret/data/app", token=token).status_code == 200
    clock.advance(0.5)
    assert reader.request("GET", "secret/data/app", token=token).status_code == 200
    clock.advance(0.5)
    assert_denied(reader, token)


def test_token_past_its_explicit_max_ttl_is_refused_even_after_renewal(
    reader: InProcessServer, clock: ManualClock
) -> None:
    token = create_token(reader, policies=["reader"], ttl="10s", explicit_max_ttl="15s")
    clock.advance(8)
    assert reader.request("POST", "auth/token/renew-self", token=token, json={"increment": "10s"}).status_code == 200
    clock.advance(8)
    assert_denied(reader, token)


def test_revoked_token_is_refused(reader: InProcessServer) -> None:
    token = create_token(reader, policies=["reader"])
    assert reader.request("POST", "auth/token/revoke", json={"token": token}).status_code == 204
    assert_denied(reader, token)


def test_self_revoked_token_is_refused(reader: InProcessServer) -> None:
    token = create_token(reader, policies=["reader"])
    assert reader.request("POST", "auth/token/revoke-self", token=token).status_code == 204
    assert_denied(reader, token)


def test_children_of_a_revoked_token_are_refused(reader: InProcessServer) -> None:
    write_policy(reader, "creator", READER + '\npath "auth/token/create" { capabilities = ["update"] }')
    parent = create_token(reader, policies=["reader", "creator"])
    child = create_token(reader, token=parent, policies=["reader"])
    assert reader.request("POST", "auth/token/revoke", json={"token": parent}).status_code == 204
    assert_denied(reader, child)


@pytest.mark.parametrize(
    "token",
    [
        "hvs.garbage",
        "s.0123456789abcdefghijklmn",
        "root",
        "x" * 10_000,
        "hvs." + "A" * 24,
        "../../sys/token/id/whatever",
        "%00",
    ],
)
def test_garbage_token_is_refused(reader: InProcessServer, token: str) -> None:
    assert_denied(reader, token)


def test_root_token_with_a_changed_character_is_refused(reader: InProcessServer) -> None:
    root = reader.root_token
    altered = root[:-1] + ("A" if root[-1] != "A" else "B")
    assert_denied(reader, altered)
    assert_denied(reader, root.upper() if root.upper() != root else root.lower())


def test_token_header_with_non_ascii_bytes_is_refused(reader: InProcessServer) -> None:
    reply = raw_request(reader, "GET", b"/v1/secret/data/app", token="", headers=[(b"x-vault-token", b"\xff\xfe\x00")])
    assert reply.status == 403
    assert reply.json() == DENIED_BODY


def test_missing_token_is_refused(reader: InProcessServer) -> None:
    assert_denied(reader, "")


def test_bearer_authorization_header_is_accepted(reader: InProcessServer) -> None:
    token = create_token(reader, policies=["reader"])
    for scheme in ("Bearer", "bearer", "BEARER"):
        reply = reader.request("GET", "secret/data/app", token="", headers={"Authorization": f"{scheme} {token}"})
        assert reply.status_code == 200, scheme
        assert reply.json()["data"]["data"] == {"user": "alice"}


def test_bearer_with_a_bad_token_is_refused(reader: InProcessServer) -> None:
    reply = reader.request("GET", "secret/data/app", token="", headers={"Authorization": "Bearer hvs.garbage"})
    assert reply.status_code == 403


def test_other_authorization_schemes_are_not_tokens(reader: InProcessServer) -> None:
    token = create_token(reader, policies=["reader"])
    reply = reader.request("GET", "secret/data/app", token="", headers={"Authorization": f"Basic {token}"})
    assert reply.status_code == 403


def test_x_vault_token_wins_over_authorization(reader: InProcessServer) -> None:
    token = create_token(reader, policies=["reader"])
    reply = reader.request(
        "GET", "secret/data/app", token="hvs.garbage", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 403
    reply = reader.request("GET", "secret/data/app", token=token, headers={"Authorization": "Bearer hvs.garbage"})
    assert reply.status_code == 200
