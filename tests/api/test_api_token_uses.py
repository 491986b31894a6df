"""A limited-use token spends a use on every authenticated request, allowed or denied (as in Vault)."""

from __future__ import annotations

from tests.support.inprocess import InProcessServer


def test_denied_requests_spend_uses_so_probing_is_not_free(server: InProcessServer) -> None:
    server.request("POST", "sys/policy/reader", json={"policy": 'path "secret/data/ok" { capabilities = ["read"] }'})
    server.request("POST", "secret/data/ok", json={"data": {"k": "v"}})
    token = server.request("POST", "auth/token/create", json={"policies": ["reader"], "num_uses": 3}).json()[
        "auth"
    ]["client_token"]
    assert server.request("GET", "secret/data/elsewhere", token=token).status_code == 403
    assert server.request("GET", "secret/data/elsewhere2", token=token).status_code == 403
    assert server.request("GET", "secret/data/ok", token=token).status_code == 200
    assert server.request("GET", "secret/data/ok", token=token).status_code == 403


def test_the_last_use_may_be_a_denied_request_and_still_kills_the_token(server: InProcessServer) -> None:
    token = server.request("POST", "auth/token/create", json={"policies": ["default"], "num_uses": 1}).json()[
        "auth"
    ]["client_token"]
    assert server.request("GET", "secret/data/x", token=token).status_code == 403
    assert server.request("GET", "auth/token/lookup-self", token=token).status_code == 403
    assert server.request("POST", "auth/token/lookup", json={"token": token}).status_code == 403
