"""What a sealed or uninitialised server answers: 503 "Vault is sealed" for everything but
init, unseal, seal-status and health (as Vault does), and nothing reaches storage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.api.api_support import SEALED_BODY, create_token, started_server, storage_snapshot
from tests.support.inprocess import InProcessServer

BEHIND_THE_BARRIER = [
    ("GET", "secret/data/app", None),
    ("POST", "secret/data/app", {"data": {"user": "bob"}}),
    ("PATCH", "secret/data/app", {"data": {"user": "bob"}}),
    ("DELETE", "secret/data/app", None),
    ("LIST", "secret/metadata", None),
    ("GET", "secret/metadata?list=true", None),
    ("GET", "sys/mounts", None),
    ("POST", "sys/mounts/kv1", {"type": "kv"}),
    ("DELETE", "sys/mounts/secret", None),
    ("GET", "sys/policies/acl/default", None),
    ("PUT", "sys/policies/acl/dev", {"policy": 'path "x" { capabilities = ["read"] }'}),
    ("GET", "sys/key-status", None),
    ("POST", "sys/rotate", None),
    ("POST", "sys/seal", None),
    ("POST", "sys/capabilities-self", {"paths": ["secret/data/app"]}),
    ("POST", "auth/token/create", {}),
    ("GET", "auth/token/lookup-self", None),
    ("POST", "auth/token/revoke-self", None),
    ("GET", "no-such-mount/x", None),
    ("GET", "sys/no-such-path", None),
]


def assert_sealed_answer(server: InProcessServer, method: str, path: str, body: object, token: str | None) -> None:
    headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
    reply = server.request(method, path, token=token, json=body, headers=headers)
    assert reply.status_code == 503, (method, path, reply.text)
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == SEALED_BODY


@pytest.fixture
def user_token(server: InProcessServer) -> str:
    """A valid non-root token, created before the seal."""
    return create_token(server, policies=["default"])


@pytest.fixture
def sealed(server: InProcessServer, user_token: str) -> InProcessServer:
    assert server.request("POST", "secret/data/app", json={"data": {"user": "alice"}}).status_code == 200
    assert server.request("POST", "sys/seal").status_code == 204
    return server


@pytest.mark.parametrize(("method", "path", "body"), BEHIND_THE_BARRIER)
def test_every_request_behind_the_barrier_answers_503_while_sealed(
    sealed: InProcessServer, user_token: str, method: str, path: str, body: object
) -> None:
    before = storage_snapshot(sealed)
    for token in (None, user_token, "", "hvs.garbage"):
        assert_sealed_answer(sealed, method, path, body, token)
    assert storage_snapshot(sealed) == before


def test_seal_status_answers_200_while_sealed(sealed: InProcessServer) -> None:
    reply = sealed.request("GET", "sys/seal-status", token="")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["initialized"], body["sealed"], body["t"], body["n"]) == (True, True, 1, 1)


def test_health_answers_503_with_its_own_body_while_sealed(sealed: InProcessServer) -> None:
    reply = sealed.request("GET", "sys/health", token="")
    assert reply.status_code == 503
    assert reply.json()["sealed"] is True
    assert "errors" not in reply.json()
    assert sealed.request("HEAD", "sys/health", token="").status_code == 503
    assert sealed.request("GET", "sys/health?sealedcode=200", token="").status_code == 200


def test_init_answers_while_sealed(sealed: InProcessServer) -> None:
    assert sealed.request("GET", "sys/init", token="").json() == {"initialized": True}
    again = sealed.request("PUT", "sys/init", token="", json={"secret_shares": 1, "secret_threshold": 1})
    assert again.status_code == 400
    assert again.json() == {"errors": ["Vault is already initialized"]}


def test_unseal_answers_while_sealed_and_opens_the_barrier(sealed: InProcessServer) -> None:
    bad = sealed.request("PUT", "sys/unseal", token="", json={"key": "not base64 or hex!"})
    assert bad.status_code == 400
    assert sealed.core.sealed
    good = sealed.request("PUT", "sys/unseal", token="", json={"key": sealed.unseal_keys[0].hex()})
    assert good.status_code == 200
    assert good.json()["sealed"] is False
    assert sealed.request("GET", "secret/data/app").json()["data"]["data"] == {"user": "alice"}


@pytest.fixture
def uninitialised() -> Iterator[InProcessServer]:
    with started_server(initialise=False) as server:
        yield server


def test_uninitialised_server_answers_health_with_501(uninitialised: InProcessServer) -> None:
    reply = uninitialised.request("GET", "sys/health", token="")
    assert reply.status_code == 501
    assert (reply.json()["initialized"], reply.json()["sealed"]) == (False, True)


def test_uninitialised_server_answers_seal_status_and_init_reads(uninitialised: InProcessServer) -> None:
    status = uninitialised.request("GET", "sys/seal-status", token="")
    assert status.status_code == 200
    assert (status.json()["initialized"], status.json()["sealed"]) == (False, True)
    assert uninitialised.request("GET", "sys/init", token="").json() == {"initialized": False}


def test_unseal_on_an_uninitialised_server_answers_400_like_vault(uninitialised: InProcessServer) -> None:
    reply = uninitialised.request("PUT", "sys/unseal", token="", json={"key": "00" * 32})
    assert reply.status_code == 400
    assert reply.json() == {"errors": ["Vault is not initialized"]}


@pytest.mark.parametrize(("method", "path", "body"), BEHIND_THE_BARRIER)
def test_uninitialised_server_answers_503_sealed_for_everything_else(
    uninitialised: InProcessServer, method: str, path: str, body: object
) -> None:
    assert_sealed_answer(uninitialised, method, path, body, token="hvs.anything")
    assert storage_snapshot(uninitialised) == {}


def test_init_with_bad_parameters_leaves_the_server_uninitialised(uninitialised: InProcessServer) -> None:
    for body in ({}, {"secret_shares": "five", "secret_threshold": 3}, {"secret_shares": 1, "secret_threshold": 2}):
        reply = uninitialised.request("PUT", "sys/init", token="", json=body)
        assert reply.status_code == 400, (body, reply.text)
    assert storage_snapshot(uninitialised) == {}
    assert uninitialised.request("GET", "sys/init", token="").json() == {"initialized": False}


def test_leader_status_answers_while_sealed_as_vault_does_without_ha() -> None:
    server = InProcessServer()
    try:
        server.init_and_unseal()
        server.request("POST", "sys/seal")
        reply = server.request("GET", "sys/leader", token="")
        assert reply.status_code == 200
        assert reply.json()["ha_enabled"] is False
    finally:
        server.close()
