"""Wire details clients depend on: 204 with no body, JSON content type, Vault's envelope."""

from __future__ import annotations

import pytest
from tests.api.api_support import raw_request
from tests.support.inprocess import InProcessServer

NO_CONTENT_WRITES = [
    ("POST", "sys/mounts/kv1", {"type": "kv"}),
    ("POST", "kv1/app", {"user": "alice"}),
    ("DELETE", "kv1/app", None),
    ("PUT", "sys/policies/acl/dev", {"policy": 'path "kv1/*" { capabilities = ["read"] }'}),
    ("DELETE", "sys/policies/acl/dev", None),
    ("POST", "secret/config", {"max_versions": 5}),
    ("DELETE", "secret/data/app", None),
    ("POST", "secret/undelete/app", {"versions": [1]}),
    ("POST", "secret/destroy/app", {"versions": [1]}),
    ("DELETE", "secret/metadata/app", None),
    ("DELETE", "sys/mounts/kv1", None),
]


def test_writes_that_return_nothing_answer_204_with_no_body(server: InProcessServer) -> None:
    assert server.request("POST", "secret/data/app", json={"data": {"user": "alice"}}).status_code == 200
    for method, path, body in NO_CONTENT_WRITES:
        reply = server.request(method, path, json=body)
        assert reply.status_code == 204, (method, path, reply.text)
        assert reply.content == b"", (method, path)
        assert "content-type" not in reply.headers, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "sys/health", 200),
        ("GET", "sys/seal-status", 200),
        ("GET", "sys/mounts", 200),
        ("GET", "secret/data/app", 200),
        ("GET", "secret/data/missing", 404),
        ("GET", "no-such-mount/x", 404),
        ("FOO", "secret/data/app", 405),
        ("POST", "secret/config", 400),
    ],
)
def test_json_answers_carry_the_json_content_type(server: InProcessServer, method: str, path: str, status: int) -> None:
    server.request("POST", "secret/data/app", json={"data": {"user": "alice"}})
    reply = server.request(method, path, content=b"[]" if method == "POST" else None)
    assert reply.status_code == status
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    reply.json()


def test_data_answers_use_vaults_envelope(server: InProcessServer) -> None:
    server.request("POST", "secret/data/app", json={"data": {"user": "alice"}})
    body = server.request("GET", "secret/data/app").json()
    envelope = {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"}
    assert set(body) >= envelope
    assert body["data"]["data"] == {"user": "alice"}


def test_error_answers_carry_only_an_errors_list(server: InProcessServer) -> None:
    for method, path in (("GET", "no-such-mount/x"), ("POST", "secret/config")):
        body = server.request(method, path, content=b"{").json()
        assert set(body) == {"errors"}
        assert all(isinstance(e, str) for e in body["errors"])


def test_head_answers_the_status_without_a_body(server: InProcessServer) -> None:
    reply = raw_request(server, "HEAD", b"/v1/sys/health", token="")
    assert reply.status == 200
    assert reply.body == b""
