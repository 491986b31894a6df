"""Audit entries in Vault's schema, and what each device option does to them (no server, no device)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest

from strongroom.core.audit.format import request_entry, response_entry
from strongroom.core.audit.hashing import Renderer
from strongroom.core.tokens.entry import TokenEntry
from strongroom.errors import PermissionDenied
from strongroom.sdk.logical import Auth, Operation, RawResponse, Response
from tests.audit.audit_support import HMAC, event, mount, unhashed

SALT = b"s" * 32
SECRET = "canary-value-0123456789"


def render(entry: dict[str, Any], **options: bool) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(orjson.dumps(entry, default=Renderer(SALT, **options).default))
    return parsed


def expected_hmac(value: str) -> str:
    return "hmac-sha256:" + hmac.new(SALT, value.encode(), hashlib.sha256).hexdigest()


def token(meta: dict[str, str] | None = None) -> TokenEntry:
    return TokenEntry(
        id_hash="h", accessor="accessor-1234", parent="", policies=("default", "app"), path="auth/token/create",
        meta=meta or {}, display_name="token-" + SECRET, num_uses=0, creation_time=1_800_000_000.0, ttl=3600,
        max_ttl=0, explicit_max_ttl=0, period=0, renewable=True, role="", type="service", entity_id="ent-1",
        bound_cidrs=(), expire_time=0.0,
    )


def test_request_entry_has_vaults_fields_with_secrets_hmacd() -> None:
    ev = event({"data": {"password": SECRET}, "options": {"cas": 1}})
    ev.token = token({"team": SECRET})
    entry = render(request_entry(ev, 1_800_000_000.5))

    assert entry["type"] == "request"
    assert entry["time"] == "2027-01-15T08:00:00.500000Z"
    auth = entry["auth"]
    assert auth["client_token"] == expected_hmac("hvs.client-token")
    assert auth["accessor"] == expected_hmac("accessor-1234")
    assert auth["display_name"] == expected_hmac("token-" + SECRET)
    assert auth["policies"] == auth["token_policies"] == ["default", "app"]
    assert auth["metadata"] == {"team": expected_hmac(SECRET)}
    assert (auth["entity_id"], auth["token_type"], auth["token_ttl"]) == ("ent-1", "service", 3600)
    request = entry["request"]
    assert request["id"] == "req-1"
    assert request["operation"] == "update"
    assert request["path"] == "secret/data/app"
    assert (request["mount_point"], request["mount_type"]) == ("secret/", "kv")
    assert request["mount_accessor"] == "kv_0a1b2c3d"
    assert request["namespace"] == {"id": "root"}
    assert request["remote_address"] == "10.1.2.3"
    assert request["client_token"] == expected_hmac("hvs.client-token")
    assert request["client_token_accessor"] == expected_hmac("accessor-1234")
    assert request["data"] == {"data": {expected_hmac("password"): expected_hmac(SECRET)}, "options": {
        expected_hmac("cas"): 1}}
    assert "error" not in entry
    assert "response" not in entry
    assert SECRET not in orjson.dumps(entry).decode()
    assert unhashed(entry) == []


def test_response_entry_carries_status_data_and_granted_auth_hmacd() -> None:
    granted = Auth(policies=["default"], display_name="token", metadata={"user": SECRET}, client_token="hvs.new",
                   accessor="acc-new", ttl=60)
    ev = event({"policies": ["default"]}, response=Response(data={"id": SECRET, "num": 3, "flag": True},
                                                            auth=granted, warnings=["a warning"]))
    entry = render(response_entry(ev, 1_800_000_000.0, 200, elide_lists=False))

    response = entry["response"]
    assert response["status_code"] == 200
    assert response["data"] == {"id": expected_hmac(SECRET), "num": 3, "flag": True}
    assert response["auth"]["client_token"] == expected_hmac("hvs.new")
    assert response["auth"]["accessor"] == expected_hmac("acc-new")
    assert response["auth"]["metadata"] == {"user": expected_hmac(SECRET)}
    assert response["warnings"] == ["a warning"]
    assert entry["request"]["data"] == {"policies": [expected_hmac("default")]}
    assert unhashed(entry) == []


def test_a_refused_request_carries_the_error_and_only_the_token_hmac() -> None:
    ev = event({"data": {"k": SECRET}})
    ev.error = PermissionDenied()
    entry = render(response_entry(ev, 0.0, 403, elide_lists=False))

    assert entry["error"] == "permission denied"
    assert entry["auth"] == {"client_token": expected_hmac("hvs.client-token")}
    assert entry["response"]["status_code"] == 403
    assert "data" not in entry["response"]
    assert unhashed(entry) == []


def test_an_unauthenticated_request_has_an_empty_auth() -> None:
    entry = render(request_entry(event({"password": SECRET}, token=""), 0.0))
    assert entry["auth"] == {}
    assert "client_token" not in entry["request"]


def test_nested_keys_are_hmacd_and_top_level_keys_stay_clear() -> None:
    data = {"data": {SECRET: [SECRET, {SECRET: {"deeper": SECRET}}]}}
    entry = render(request_entry(event(data), 0.0))

    assert list(entry["request"]["data"]) == ["data"]
    assert SECRET not in orjson.dumps(entry).decode()
    assert unhashed(entry) == []


def test_the_structural_check_finds_a_clear_secret_leaf_and_a_clear_nested_key() -> None:
    entry = render(request_entry(event({"data": {"k": "v"}}), 0.0))
    entry["request"]["data"]["data"] = {"clear-key": "clear-value"}
    entry["auth"]["extra"] = "leak"

    assert sorted(unhashed(entry)) == ["auth.extra", "key request.data.data.clear-key", "request.data.data.clear-key"]


def test_non_hmac_keys_of_the_mount_stay_clear_key_and_value() -> None:
    entry_mount = mount(non_hmac_request=["options"], non_hmac_response=["version"])
    ev = event({"data": {"pw": SECRET}, "options": {"cas": "2"}}, entry=entry_mount,
               response=Response(data={"version": "7", "created_time": "2026"}))
    entry = render(response_entry(ev, 0.0, 200, elide_lists=False))

    assert entry["request"]["data"]["options"] == {"cas": "2"}
    assert HMAC.fullmatch(entry["request"]["data"]["data"][expected_hmac("pw")])
    assert entry["response"]["data"] == {"version": "7", "created_time": expected_hmac("2026")}


def test_hmac_accessor_false_leaves_accessors_clear_and_tokens_hashed() -> None:
    ev = event({})
    ev.token = token()
    ev.response = Response(auth=Auth(client_token="hvs.new", accessor="acc-new"))
    entry = render(response_entry(ev, 0.0, 200, elide_lists=False), hmac_accessor=False)

    assert entry["auth"]["accessor"] == "accessor-1234"
    assert entry["request"]["client_token_accessor"] == "accessor-1234"
    assert entry["response"]["auth"]["accessor"] == "acc-new"
    assert entry["auth"]["client_token"] == expected_hmac("hvs.client-token")
    assert unhashed(entry, accessors_clear=True) == []


def test_log_raw_writes_every_value_in_clear() -> None:
    ev = event({"data": {"password": SECRET}})
    ev.token = token()
    entry = render(request_entry(ev, 0.0), log_raw=True)

    assert entry["request"]["data"] == {"data": {"password": SECRET}}
    assert entry["auth"]["client_token"] == "hvs.client-token"
    assert entry["auth"]["accessor"] == "accessor-1234"


def test_elided_list_responses_show_how_many_keys_not_which() -> None:
    ev = event(operation=Operation.LIST, path="metadata/",
               response=Response(data={"keys": ["a", "b", SECRET], "key_info": {"a": {}}}))
    elided = render(response_entry(ev, 0.0, 200, elide_lists=True))
    full = render(response_entry(ev, 0.0, 200, elide_lists=False))

    assert elided["response"]["data"] == {"keys": 3, "key_info": 1}
    assert full["response"]["data"]["keys"] == [expected_hmac("a"), expected_hmac("b"), expected_hmac(SECRET)]


def test_a_raw_answer_is_recorded_with_its_body_hashed() -> None:
    ev = event(response=Response(raw=RawResponse(200, "application/pkix-crl", SECRET.encode())))
    entry = render(response_entry(ev, 0.0, 200, elide_lists=False))

    data = entry["response"]["data"]
    assert data["http_status_code"] == 200
    assert data["http_content_type"] == "application/pkix-crl"
    assert HMAC.fullmatch(data["http_raw_body"])
    assert unhashed(entry) == []


def test_a_value_the_entry_cannot_hold_is_refused_not_written() -> None:
    ev = event(response=Response(data={"odd": object()}))
    with pytest.raises(TypeError):
        render(response_entry(ev, 0.0, 200, elide_lists=False))
