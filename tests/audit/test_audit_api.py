"""``sys/audit``, ``sys/audit/:path`` and ``sys/audit-hash/:path`` through the HTTP edge (in-process server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.core.audit.broker import Auditor
from strongroom.core.audit.chain import load_public_key
from strongroom.core.audit.verify import verify_logs
from strongroom.sdk.system import ManualClock
from tests.api.api_support import started_server
from tests.audit.audit_support import read_entries, requests_and_responses, unhashed
from tests.integration.process_harness import wait_until
from tests.support.inprocess import InProcessServer

SECRET = "audit-api-secret-4f1c2b"


@pytest.fixture
def server() -> Iterator[InProcessServer]:
    with started_server(clock=ManualClock()) as srv:
        try:
            yield srv
        finally:
            assert isinstance(srv.core.audit, Auditor)
            srv.run(srv.core.audit.close())


@pytest.fixture
def log(server: InProcessServer, tmp_path: Path) -> Path:
    path = tmp_path / "audit.log"
    reply = server.request("PUT", "sys/audit/file", json={"type": "file", "description": "main log",
                                                            "options": {"file_path": str(path)}})
    assert reply.status_code == 204, reply.text
    return path


def entries_for(path: Path, request_path: str) -> list[dict[str, Any]]:
    return [e for e in requests_and_responses(read_entries(path)) if e["request"]["path"] == request_path]


def token_with(server: InProcessServer, rules: str) -> str:
    assert server.request("PUT", "sys/policies/acl/auditor", json={"policy": rules}).status_code == 204
    reply = server.request("POST", "auth/token/create", json={"policies": ["auditor"]})
    return str(reply.json()["auth"]["client_token"])


def test_enable_list_and_disable_answer_as_vault_does(server: InProcessServer, log: Path) -> None:
    listed = server.request("GET", "sys/audit").json()
    device = listed["data"]["file/"]
    assert listed["file/"] == device
    assert device["type"] == "file"
    assert device["description"] == "main log"
    assert device["options"] == {"file_path": str(log)}
    assert device["path"] == "file/"
    assert len(device["checkpoint_key_id"]) == 16

    assert server.request("DELETE", "sys/audit/file").status_code == 204
    assert server.request("GET", "sys/audit").json()["data"] == {}
    assert server.request("DELETE", "sys/audit/file").status_code == 204  # nothing there: still fine


def test_each_request_and_its_answer_are_recorded_with_one_id_and_the_status_sent(
    server: InProcessServer, log: Path
) -> None:
    assert server.request("POST", "secret/data/app", json={"data": {"password": SECRET}}).status_code == 200
    assert server.request("GET", "secret/data/missing").status_code == 404

    written = entries_for(log, "secret/data/app")
    assert [e["type"] for e in written] == ["request", "response"]
    assert written[0]["request"]["id"] == written[1]["request"]["id"]
    assert written[1]["response"]["status_code"] == 200
    assert entries_for(log, "secret/data/missing")[1]["response"]["status_code"] == 404
    assert SECRET.encode() not in log.read_bytes()
    assert all(unhashed(e) == [] for e in read_entries(log))


def test_audit_hash_gives_the_hmac_the_file_holds(server: InProcessServer, log: Path) -> None:
    server.request("POST", "secret/data/app", json={"data": {"password": SECRET}})
    reply = server.request("POST", "sys/audit-hash/file", json={"input": SECRET})
    assert reply.status_code == 200
    digest = reply.json()["data"]["hash"]
    assert digest.startswith("hmac-sha256:")
    assert digest.encode() in log.read_bytes()
    assert server.request("POST", "sys/audit-hash/other", json={"input": SECRET}).status_code == 400


def test_a_refused_token_is_on_record_with_its_hmac(server: InProcessServer, log: Path) -> None:
    assert server.request("GET", "secret/data/app", token="hvs.not-a-real-token").status_code == 403
    digest = server.request("POST", "sys/audit-hash/file", json={"input": "hvs.not-a-real-token"}).json()["hash"]

    request, response = entries_for(log, "secret/data/app")
    assert request["auth"] == {"client_token": digest}
    assert response["error"] == "permission denied"
    assert response["response"]["status_code"] == 403


def test_all_three_endpoints_need_sudo(server: InProcessServer, tmp_path: Path) -> None:
    rules = 'path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }'
    without = token_with(server, rules)
    body = {"type": "file", "options": {"file_path": str(tmp_path / "a.log")}}
    assert server.request("GET", "sys/audit", token=without).status_code == 403
    assert server.request("PUT", "sys/audit/file", json=body, token=without).status_code == 403
    assert server.request("POST", "sys/audit-hash/file", json={"input": "x"}, token=without).status_code == 403

    with_sudo = token_with(server, rules.replace('"list"]', '"list", "sudo"]'))
    assert server.request("PUT", "sys/audit/file", json=body, token=with_sudo).status_code == 204
    assert server.request("GET", "sys/audit", token=with_sudo).status_code == 200
    assert server.request("POST", "sys/audit-hash/file", json={"input": "x"}, token=with_sudo).status_code == 200
    assert server.request("DELETE", "sys/audit/file", token=with_sudo).status_code == 204


@pytest.mark.parametrize(("body", "message"), [
    ({"type": "file", "options": {"file_path": "/tmp/x.log", "format": "jsonx"}}, "format"),
    ({"type": "tape", "options": {}}, "unknown audit device type"),
    ({"type": "file", "options": {"file_path": "relative.log"}}, "absolute"),
    ({"type": "file", "options": {"file_path": "/tmp/x.log", "mode": "0744"}}, "executable"),
    ({"type": "socket", "options": {"address": "169.254.169.254:80"}}, "metadata"),
    ({"options": {}}, "type"),
])
def test_bad_devices_are_refused_with_a_clear_400(server: InProcessServer, body: dict[str, Any], message: str) -> None:
    reply = server.request("PUT", "sys/audit/bad", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["errors"][0]
    assert server.request("GET", "sys/audit").json()["data"] == {}


def test_a_mounts_non_hmac_keys_stay_clear_in_the_log(server: InProcessServer, log: Path) -> None:
    tune = {"audit_non_hmac_request_keys": ["options"], "audit_non_hmac_response_keys": ["metadata"]}
    assert server.request("POST", "sys/mounts/secret/tune", json=tune).status_code == 204
    server.request("POST", "secret/data/app", json={"data": {"password": SECRET}, "options": {"cas": 0}})
    server.request("GET", "secret/data/app")

    write = entries_for(log, "secret/data/app")[0]
    read = entries_for(log, "secret/data/app")[-1]
    assert write["request"]["data"]["options"] == {"cas": 0}
    assert read["response"]["data"]["metadata"]["version"] == 1
    assert isinstance(read["response"]["data"]["metadata"]["created_time"], str)
    assert not read["response"]["data"]["metadata"]["created_time"].startswith("hmac-sha256:")
    assert SECRET.encode() not in log.read_bytes()


def test_disabling_the_device_ends_its_chain_with_a_close_checkpoint(server: InProcessServer, log: Path) -> None:
    server.request("GET", "secret/data/app")
    assert server.request("DELETE", "sys/audit/file").status_code == 204
    # The close checkpoint is written on the device's own thread.
    wait_until(lambda: read_entries(log)[-1]["type"] == "checkpoint", 5, "the close checkpoint")
    entries = read_entries(log)
    assert entries[0]["checkpoint"]["kind"] == "open"
    assert entries[-1]["checkpoint"]["kind"] == "close"
    lines_before = len(entries)
    server.request("GET", "secret/data/app")
    assert len(read_entries(log)) == lines_before



def test_a_seal_ends_every_chain_and_the_next_unseal_starts_new_ones(server: InProcessServer, log: Path) -> None:
    server.request("GET", "secret/data/app")
    assert server.request("PUT", "sys/seal").status_code == 204
    server.run(server.seal.unseal_with_keys(server.unseal_keys))
    server.request("GET", "secret/data/app")
    key = server.request("GET", "sys/audit").json()["data"]["file/"]["checkpoint_public_key"]
    assert isinstance(server.core.audit, Auditor)
    server.run(server.core.audit.close())

    entries = read_entries(log)
    chains = list(dict.fromkeys(e["chain"]["id"] for e in entries))
    assert len(chains) == 2
    kinds = [e["checkpoint"]["kind"] for e in entries if e["type"] == "checkpoint"]
    assert kinds == ["open", "close", "open", "close"]
    assert verify_logs([log], load_public_key(key)).problems == []
