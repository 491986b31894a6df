"""Bad request bodies: each class answers 400 with a clear message and changes nothing.

"Changes nothing" is checked the strictest way available: every raw entry of
the physical storage is identical before and after the refused request.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.api_support import raw_request, storage_snapshot
from tests.support.inprocess import InProcessServer

from strongroom.http.limits import RequestLimits


@pytest.fixture
def seeded(server: InProcessServer) -> InProcessServer:
    """A server holding one KV v2 secret (version 1) and one KV v1 secret."""
    assert server.request("POST", "secret/data/app", json={"data": {"user": "alice"}}).status_code == 200
    assert server.request("POST", "sys/mounts/kv1", json={"type": "kv"}).status_code == 204
    assert server.request("POST", "kv1/app", json={"user": "alice"}).status_code == 204
    return server


def assert_refused_without_change(
    server: InProcessServer, method: str, path: str, status: int, message_part: str, **kwargs: Any
) -> None:
    before = storage_snapshot(server)
    reply = server.request(method, path, **kwargs)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    errors = reply.json()["errors"]
    assert len(errors) == 1
    assert message_part in errors[0]
    assert storage_snapshot(server) == before
    # And the secrets read back as they were written.
    current = server.request("GET", "secret/data/app").json()["data"]
    assert current["data"] == {"user": "alice"}
    assert current["metadata"]["version"] == 1
    assert server.request("GET", "kv1/app").json()["data"] == {"user": "alice"}


MALFORMED = [
    b'{"data": {"user": ',
    b'{"data": {"user": "bob"}',
    b"{'data': {}}",
    b'{"data": {"user": "bob"}} trailing',
    b'{"data": {"user": NaN}}',
    b'{"data": {"user": "\xff\xfe"}}',
    b"\x00\x01\x02",
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_answers_400_and_changes_nothing(seeded: InProcessServer, body: bytes) -> None:
    for path in ("secret/data/app", "kv1/app"):
        assert_refused_without_change(seeded, "POST", path, 400, "not valid JSON", content=body)


@pytest.mark.parametrize("body", [b"[1, 2]", b'"a string"', b"42", b"true", b"[]", b'["data", {"user": "bob"}]'])
def test_json_that_is_not_an_object_answers_400_and_changes_nothing(seeded: InProcessServer, body: bytes) -> None:
    for path in ("secret/data/app", "kv1/app"):
        assert_refused_without_change(seeded, "POST", path, 400, "must be a JSON object", content=body)


def test_malformed_json_on_patch_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    assert_refused_without_change(
        seeded, "PATCH", "secret/data/app", 400, "not valid JSON",
        content=b'{"data": {', headers={"Content-Type": "application/merge-patch+json"},
    )


WRONG_TYPES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "secret/data/app", {"data": {"user": "bob"}, "options": {"cas": "abc"}}, "check-and-set"),
    ("POST", "secret/data/app", {"data": {"user": "bob"}, "options": {"cas": [1]}}, "check-and-set"),
    ("POST", "secret/data/app", {"data": {"user": "bob"}, "options": "cas=1"}, "options"),
    ("POST", "secret/data/app", {"data": "user=bob"}, "data"),
    ("POST", "secret/data/app", {"data": ["user", "bob"]}, "data"),
    ("POST", "secret/config", {"max_versions": [3]}, "max_versions"),
    ("POST", "secret/config", {"max_versions": "many"}, "max_versions"),
    ("POST", "secret/config", {"cas_required": "maybe"}, "cas_required"),
    ("POST", "secret/config", {"delete_version_after": "soon"}, "delete_version_after"),
    ("POST", "secret/metadata/app", {"max_versions": {"n": 3}}, "max_versions"),
    ("POST", "secret/metadata/app", {"cas_required": "sometimes"}, "cas_required"),
    ("POST", "secret/metadata/app", {"custom_metadata": "owner=bob"}, "custom_metadata"),
    ("POST", "secret/delete/app", {"versions": "latest"}, "versions"),
    ("POST", "secret/destroy/app", {"versions": [{"v": 1}]}, "versions"),
    ("POST", "sys/mounts/other", {"type": "kv", "local": "perhaps"}, "local"),
    ("POST", "sys/mounts/other", {"type": ["kv"]}, "type"),
    ("POST", "auth/token/create", {"renewable": "nah"}, "renewable"),
    ("POST", "auth/token/create", {"num_uses": "twice"}, "num_uses"),
    ("POST", "auth/token/create", {"ttl": "forever"}, "ttl"),
    ("POST", "auth/token/create", {"policies": {"a": 1}}, "policies"),
    ("POST", "sys/policies/acl/dev", {"policy": ["path"]}, "policy"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "names"), WRONG_TYPES, ids=[f"{p}:{n}" for _, p, _, n in WRONG_TYPES]
)
def test_wrong_field_type_answers_400_naming_the_field_and_changes_nothing(
    seeded: InProcessServer, method: str, path: str, body: dict[str, Any], names: str
) -> None:
    assert_refused_without_change(seeded, method, path, 400, names, json=body)


def test_stale_cas_answers_vaults_wording_and_changes_nothing(seeded: InProcessServer) -> None:
    assert_refused_without_change(
        seeded, "POST", "secret/data/app", 400, "check-and-set parameter did not match the current version",
        json={"data": {"user": "bob"}, "options": {"cas": 0}},
    )


def nested(depth: int) -> Any:
    """An object nesting objects and arrays alternately, ``depth`` levels deep counting itself."""
    value: Any = "leaf"
    for level in range(depth):
        value = {"k": value} if (depth - level) % 2 == 1 else [value]
    return value


DEFAULT_DEPTH = RequestLimits().max_json_depth


def test_json_nested_deeper_than_300_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": nested(301)}
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "maximum nesting depth", json=body)


def test_json_nested_one_level_past_the_limit_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": nested(DEFAULT_DEPTH)}  # the body object adds one level
    assert_refused_without_change(
        seeded, "POST", "secret/data/app", 400, f"maximum nesting depth of {DEFAULT_DEPTH}", json=body
    )


@pytest.mark.parametrize("depth", range(DEFAULT_DEPTH - 4, DEFAULT_DEPTH + 1))
def test_every_secret_nested_within_the_limit_is_stored_and_reads_back(seeded: InProcessServer, depth: int) -> None:
    # Regression: the limit used to be 300 while answers could only be encoded
    # 254 levels deep, so some secrets were accepted and then every read was a 500.
    value = nested(depth - 1)
    if isinstance(value, dict):
        write = seeded.request("POST", "secret/data/deep", json={"data": value})
        assert write.status_code == 200, write.text
        for path in ("secret/data/deep", "secret/subkeys/deep"):
            assert seeded.request("GET", path).status_code == 200, path
    assert seeded.request("POST", "kv1/deep", json=nested(depth)).status_code == 204
    read = seeded.request("GET", "kv1/deep")
    assert read.status_code == 200
    assert read.json()["data"] == nested(depth)


def test_pathologically_deep_json_is_refused_quickly(seeded: InProcessServer) -> None:
    # 100,000 levels: far past any parser's recursion limit; must be a clean 400.
    body = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "JSON", content=body)


def test_json_object_with_more_than_10000_keys_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": {f"k{i}": "v" for i in range(10_001)}}
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "more than 10000 entries", json=body)


def test_json_array_with_more_than_10000_elements_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": {"list": list(range(10_001))}}
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "more than 10000 elements", json=body)


def test_wide_top_level_object_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {f"k{i}": "v" for i in range(10_001)}
    assert_refused_without_change(seeded, "POST", "kv1/app", 400, "more than 10000 entries", json=body)


def test_json_object_with_exactly_10000_keys_is_accepted(seeded: InProcessServer) -> None:
    reply = seeded.request("POST", "secret/data/app", json={"data": {f"k{i}": "v" for i in range(9_999)}})
    assert reply.status_code == 200, reply.text


def test_string_longer_than_one_mebibyte_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": {"user": "x" * (1024 * 1024 + 1)}}
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "string value exceeds", json=body)


def test_key_longer_than_one_mebibyte_answers_400_and_changes_nothing(seeded: InProcessServer) -> None:
    body = {"data": {"k" * (1024 * 1024 + 1): "v"}}
    assert_refused_without_change(seeded, "POST", "secret/data/app", 400, "key exceeds", json=body)


def test_shape_limits_apply_to_unauthenticated_endpoints_before_anything_else(seeded: InProcessServer) -> None:
    deep = b'{"key":' + b"[" * 400 + b"]" * 400 + b"}"
    for path in ("sys/unseal", "sys/init", "auth/token/create"):
        reply = seeded.request("POST", path, token="", content=deep)
        assert reply.status_code == 400, (path, reply.text)
        assert "nesting depth" in reply.json()["errors"][0]


def test_invalid_content_length_header_answers_400(seeded: InProcessServer) -> None:
    before = storage_snapshot(seeded)
    reply = raw_request(
        seeded, "POST", b"/v1/secret/data/app", headers=[(b"content-length", b"twelve")], body=b'{"data":{}}'
    )
    assert reply.status == 400
    assert reply.json() == {"errors": ["invalid Content-Length header"]}
    assert storage_snapshot(seeded) == before
