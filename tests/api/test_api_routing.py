"""Routing answers: unknown mounts and paths, wrong and unknown methods, LIST spellings, namespaces."""

from __future__ import annotations

import pytest
from tests.api.api_support import DENIED_BODY, create_token, raw_request, storage_snapshot
from tests.support.inprocess import InProcessServer


@pytest.mark.parametrize("token", ["", "hvs.not-a-real-token", "s.garbage"])
def test_unknown_mount_without_a_valid_token_answers_403_not_404(server: InProcessServer, token: str) -> None:
    reply = server.request("GET", "no-such-mount/secret", token=token)
    assert reply.status_code == 403
    assert reply.json() == DENIED_BODY


def test_unknown_mount_with_a_valid_token_answers_404_naming_the_route(server: InProcessServer) -> None:
    reply = server.request("GET", "no-such-mount/secret")
    assert reply.status_code == 404
    assert reply.json() == {"errors": ['no handler for route "no-such-mount/secret". route entry not found.']}


def test_unknown_mount_is_403_for_a_valid_token_whose_policies_do_not_reach_it(server: InProcessServer) -> None:
    token = create_token(server, policies=["default"])
    reply = server.request("GET", "no-such-mount/secret", token=token)
    assert reply.status_code == 403


@pytest.mark.parametrize("path", ["secret/bogus", "secret/data", "sys/bogus", "sys/mounts-ish", "auth/token/bogus"])
def test_unknown_path_inside_a_mount_answers_404_with_a_message(server: InProcessServer, path: str) -> None:
    reply = server.request("GET", path)
    assert reply.status_code == 404, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["errors"], "a 404 for a bad path should say why"


def test_paths_outside_the_v1_prefix_answer_404(server: InProcessServer) -> None:
    for target in (b"/", b"/v2/secret/data/a", b"/v1", b"/ui/"):
        reply = raw_request(server, "GET", target)
        assert reply.status == 404, target


MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
WRONG_METHODS = [
    ("DELETE", "sys/seal-status"),
    ("POST", "sys/seal-status"),
    ("PUT", "sys/health"),
    ("DELETE", "sys/health"),
    ("DELETE", "sys/init"),
    ("GET", "sys/unseal"),
    ("DELETE", "sys/unseal"),
    ("POST", "sys/leader"),
    ("GET", "sys/seal"),
    ("DELETE", "sys/seal"),
    ("PATCH", "kv1/app"),
    ("DELETE", "auth/token/create"),
    ("GET", "auth/token/create"),
    ("PATCH", "sys/policies/acl/default"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_wrong_method_on_an_existing_path_answers_405_and_changes_nothing(
    server: InProcessServer, method: str, path: str
) -> None:
    assert server.request("POST", "sys/mounts/kv1", json={"type": "kv"}).status_code == 204
    assert server.request("POST", "kv1/app", json={"user": "alice"}).status_code == 204
    before = storage_snapshot(server)
    reply = server.request(
        method, path, json={"user": "bob"} if method in ("POST", "PUT", "PATCH") else None, headers=MERGE_PATCH
    )
    assert reply.status_code == 405, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert storage_snapshot(server) == before
    assert not server.core.sealed


@pytest.mark.parametrize("path", ["sys/seal-status", "sys/health", "sys/init", "sys/unseal"])
def test_wrong_method_on_seal_endpoints_answers_405_while_sealed_too(server: InProcessServer, path: str) -> None:
    assert server.request("POST", "sys/seal").status_code == 204
    reply = server.request("DELETE", path)
    assert reply.status_code == 405, reply.text


@pytest.mark.parametrize("method", ["FOO", "TRACE", "OPTIONS", "PROPFIND"])
def test_unsupported_http_method_answers_405(server: InProcessServer, method: str) -> None:
    reply = server.request(method, "secret/data/app")
    assert reply.status_code == 405
    assert reply.json() == {"errors": [f"unsupported method {method!r}"]}


def test_list_verb_and_list_query_answer_the_same(server: InProcessServer) -> None:
    for name in ("b", "a", "dir/c"):
        server.request("POST", f"secret/data/{name}", json={"data": {"x": "y"}})
    by_verb = server.request("LIST", "secret/metadata")
    by_query = server.request("GET", "secret/metadata", params={"list": "true"})
    assert by_verb.status_code == by_query.status_code == 200
    assert by_verb.json()["data"] == by_query.json()["data"] == {"keys": ["a", "b", "dir/"]}
    trailing = server.request("GET", "secret/metadata/", params={"list": "true"})
    assert trailing.json()["data"] == by_verb.json()["data"]


@pytest.mark.parametrize("spelling", ["true", "1", "t", "T", "TRUE", "True"])
def test_list_query_accepts_gos_spellings_of_true(server: InProcessServer, spelling: str) -> None:
    server.request("POST", "secret/data/a", json={"data": {"x": "y"}})
    reply = server.request("GET", "secret/metadata", params={"list": spelling})
    assert reply.json()["data"] == {"keys": ["a"]}


@pytest.mark.parametrize("spelling", ["false", "0", "f", "F", "FALSE", "False"])
def test_list_query_set_to_false_reads(server: InProcessServer, spelling: str) -> None:
    server.request("POST", "secret/data/a", json={"data": {"x": "y"}})
    reply = server.request("GET", "secret/data/a", params={"list": spelling})
    assert reply.status_code == 200
    assert reply.json()["data"]["data"] == {"x": "y"}


@pytest.mark.parametrize("spelling", ["yes", "maybe", "2", "tru"])
def test_list_query_that_is_not_a_boolean_answers_400(server: InProcessServer, spelling: str) -> None:
    reply = server.request("GET", "secret/metadata", params={"list": spelling})
    assert reply.status_code == 400
    assert reply.json() == {"errors": ["invalid value for the 'list' query parameter: expected a boolean"]}


def test_empty_list_answers_404_with_empty_errors(server: InProcessServer) -> None:
    reply = server.request("LIST", "secret/metadata/nothing-here")
    assert reply.status_code == 404
    assert reply.json() == {"errors": []}


@pytest.mark.parametrize("namespace", ["team", "admin/", " other ", "a/b/c"])
def test_a_namespace_that_does_not_exist_answers_403_and_writes_nothing(
    server: InProcessServer, namespace: str
) -> None:
    # Refused like a missing permission: a caller learns nothing about which namespaces exist.
    before = storage_snapshot(server)
    reply = server.request(
        "POST", "secret/data/a", json={"data": {"x": "y"}}, headers={"X-Vault-Namespace": namespace}
    )
    assert reply.status_code == 403
    assert reply.json() == DENIED_BODY
    assert storage_snapshot(server) == before


@pytest.mark.parametrize("namespace", ["root/team", "../x", "a//b", "sys", "te am"])
def test_a_malformed_namespace_header_answers_400(server: InProcessServer, namespace: str) -> None:
    reply = server.request("GET", "secret/data/a", headers={"X-Vault-Namespace": namespace})
    assert reply.status_code == 400
    assert "not a valid namespace name" in reply.json()["errors"][0]


@pytest.mark.parametrize("namespace", ["", "root", "root/"])
def test_the_root_namespace_is_accepted(server: InProcessServer, namespace: str) -> None:
    reply = server.request("POST", "secret/data/a", json={"data": {"x": "y"}}, headers={"X-Vault-Namespace": namespace})
    assert reply.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "status"),
    [(None, 400), ("", 400), ("text/plain", 415), ("application/json", 415), ("multipart/form-data", 415)],
)
def test_patch_without_a_merge_patch_content_type_is_refused_and_changes_nothing(
    server: InProcessServer, content_type: str | None, status: int
) -> None:
    server.request("POST", "secret/data/app", json={"data": {"user": "alice"}})
    before = storage_snapshot(server)
    if content_type is None:
        # httpx labels a json= body itself; send the raw body to leave the header out.
        raw = raw_request(server, "PATCH", b"/v1/secret/data/app", body=b'{"data": {"user": "bob"}}')
        status_seen, body = raw.status, raw.json()
    else:
        reply = server.request(
            "PATCH", "secret/data/app", json={"data": {"user": "bob"}}, headers={"Content-Type": content_type}
        )
        status_seen, body = reply.status_code, reply.json()
    assert status_seen == status
    assert body == {"errors": ["PATCH requires Content-Type of application/merge-patch+json"]}
    assert storage_snapshot(server) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/merge-patch+json", "application/merge-patch+json; charset=utf-8", "Application/Merge-Patch+JSON"],
)
def test_patch_with_a_merge_patch_content_type_is_applied(server: InProcessServer, content_type: str) -> None:
    server.request("POST", "secret/data/app", json={"data": {"user": "alice"}})
    reply = server.request(
        "PATCH", "secret/data/app", json={"data": {"role": "admin"}}, headers={"Content-Type": content_type}
    )
    assert reply.status_code == 200, reply.text
    assert server.request("GET", "secret/data/app").json()["data"]["data"] == {"user": "alice", "role": "admin"}
