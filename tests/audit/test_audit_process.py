"""Audit on a real two-worker node: what reaches the real file, redaction, and fail-closed devices."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import hvac
import pytest

from tests.audit.audit_support import read_entries, requests_and_responses, unhashed
from tests.audit.conftest import AuditedNode, Collector, FifoReader, small_tmpfs
from tests.integration.process_harness import wait_until
from tests.security.canary_requests import CanaryRequest, new_canary, run_scenario

DEADLINE = 1.0
#: A refused request answers within the deadline plus this (a retry, scheduling on a busy machine).
SLACK = 3.0


def test_every_routed_request_and_answer_is_in_the_real_file_with_the_status_sent(node: AuditedNode) -> None:
    log = node.directory / "audit.log"
    assert node.enable("file", "file", file_path=str(log)).status_code == 204
    node.request("PUT", "sys/policies/acl/nothing", json={"policy": 'path "none/*" { capabilities = ["read"] }'})
    weak = node.request("POST", "auth/token/create", json={"policies": ["nothing"]}).json()["auth"]["client_token"]

    calls: list[tuple[str, str, str, dict[str, object] | None, str | None]] = [
        ("POST", "create", "secret/data/one", {"data": {"k": "v"}}, None),
        ("GET", "read", "secret/data/one", None, None),
        ("GET", "read", "secret/data/absent", None, None),
        ("GET", "read", "secret/data/denied", None, weak),
        ("GET", "read", "secret/data/badtoken", None, "hvs.not-a-token"),
        ("POST", "create", "secret/data/badbody", {"data": "not a map"}, None),
        ("GET", "list", "secret/metadata/?list=true", None, None),
        ("GET", "read", "auth/token/lookup-self", None, None),
        ("DELETE", "delete", "secret/metadata/one", None, None),
    ]
    sent: dict[tuple[str, str], int] = {}
    for method, operation, path, body, token in calls:
        reply = node.request(method, path, json=body, token=token)
        sent[operation, path.split("?")[0]] = reply.status_code
    assert sorted(set(sent.values())) == [200, 204, 400, 403, 404]

    entries = list(requests_and_responses(read_entries(log)))
    for (operation, path), status in sent.items():
        mine = [e for e in entries if (e["request"]["operation"], e["request"]["path"]) == (operation, path)]
        assert [e["type"] for e in mine] == ["request", "response"], path
        assert mine[0]["request"]["id"] == mine[1]["request"]["id"]
        assert mine[1]["response"]["status_code"] == status, path
    requested = {e["request"]["id"] for e in entries if e["type"] == "request"}
    answered = {e["request"]["id"]: e["request"]["path"] for e in entries if e["type"] == "response"}
    # Every request entry has its answer; the one extra answer is the enabling of the device itself,
    # whose request came before the device existed.
    assert requested < set(answered)
    assert [answered[i] for i in set(answered) - requested] == ["sys/audit/file"]


def test_a_canary_through_every_path_never_reaches_the_audit_file_in_clear(node: AuditedNode) -> None:
    log = node.directory / "audit.log"
    assert node.enable("file", "file", file_path=str(log)).status_code == 204
    canary = new_canary()
    with httpx.Client(base_url=node.server.address + "/v1/", timeout=30) as client:

        def send(request: CanaryRequest) -> tuple[int, bytes]:
            token = node.root if request.token is None else request.token
            headers = {**request.headers, **({"X-Vault-Token": token} if token else {})}
            reply = client.request(request.method, request.path, json=request.json, content=request.content,
                                   headers=headers)
            return reply.status_code, reply.content

        assert run_scenario(send, canary) == []

    data = log.read_bytes()
    assert canary.encode() not in data
    assert node.audit_hash("file", canary).encode() in data  # the KV write of the canary is there, hashed
    entries = read_entries(log)
    assert len(entries) > 100
    leaks = {(e["type"], e.get("request", {}).get("path"), leak) for e in entries for leak in unhashed(e)}
    assert leaks == set()
    assert canary.encode() not in node.server.log_path.read_bytes()


def refused_quickly(node: AuditedNode, secret: str) -> None:
    """Nothing is served while the only device is down: no 2xx, no secret, no request frozen."""
    for method, path, body in (
        ("GET", "secret/data/kept", None),
        ("POST", "secret/data/kept", {"data": {"password": "overwritten"}}),
        ("GET", "secret/metadata/?list=true", None),
        ("GET", "auth/token/lookup-self", None),
        ("GET", "sys/mounts", None),
    ):
        started = time.monotonic()
        reply = node.request(method, path, json=body)
        assert reply.status_code == 500, (path, reply.status_code)
        assert secret.encode() not in reply.content
        assert "audit" in reply.json()["errors"][0]
        assert time.monotonic() - started < DEADLINE + SLACK


def served_again(node: AuditedNode, secret: str) -> None:
    """Service resumes once the device recovers (on both workers), and nothing refused was applied."""

    def healthy() -> bool:
        replies = [node.request("GET", "secret/data/kept") for _ in range(6)]
        return all(r.status_code == 200 for r in replies)

    wait_until(healthy, 20, "service to resume")
    assert node.request("GET", "secret/data/kept").json()["data"]["data"] == {"password": secret}


def test_a_fifo_without_a_reader_fails_requests_closed_until_a_reader_returns(node: AuditedNode) -> None:
    fifo = node.directory / "audit.fifo"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    secret = new_canary()
    reply = node.enable("fifo", "file", file_path=str(fifo), write_deadline=f"{DEADLINE}s")
    assert reply.status_code == 204, reply.text
    assert node.request("POST", "secret/data/kept", json={"data": {"password": secret}}).status_code == 200

    reader.stop()
    refused_quickly(node, secret)

    reader = FifoReader(fifo)
    try:
        served_again(node, secret)
        assert b'"path":"secret/data/kept"' in bytes(reader.data)
        metrics = node.request("GET", "sys/metrics", params={"format": "prometheus"}).text
        failures = [line for line in metrics.splitlines()
                    if line.startswith('strongroom_audit_write_failures_total{device="fifo/"}')]
        assert failures, "the failures were not counted"
        assert float(failures[0].split()[-1]) >= 5
    finally:
        reader.stop()
        node.server.stop()


def test_a_collector_that_stops_reading_fails_requests_within_the_deadline_until_it_returns(
    node: AuditedNode,
) -> None:
    collector = Collector()
    secret = new_canary()
    reply = node.enable("socket", "socket", address=f"127.0.0.1:{collector.port}", write_timeout="500ms",
                        write_deadline=f"{DEADLINE}s")
    assert reply.status_code == 204, reply.text
    assert node.request("POST", "secret/data/kept", json={"data": {"password": secret}}).status_code == 200
    node.request("POST", "sys/mounts/kv1", json={"type": "kv"})

    collector.stop_listening()
    # Fill each worker's connection: 512 KiB clear top-level keys make big lines.
    pids = node.workers()
    for pid in pids:
        with node.api.pinned(pid, pids) as client:
            for _ in range(100):
                started = time.monotonic()
                status = client.request("POST", "kv1/big", json={"k" * (512 * 1024): 1}).status_code
                assert time.monotonic() - started < DEADLINE + SLACK
                if status == 500:
                    break
                assert status == 204
            else:
                raise AssertionError(f"worker {pid} never filled its connection in 100 writes")
    refused_quickly(node, secret)

    revived = Collector(collector.port)
    try:
        served_again(node, secret)
        assert b'"path":"secret/data/kept"' in bytes(revived.data)
    finally:
        revived.close()
        collector.close()


def fill(path: Path) -> None:
    """Write zeros to ``path`` until the disk refuses."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    finally:
        os.close(fd)


def test_a_full_disk_fails_requests_closed_until_space_is_freed(node: AuditedNode) -> None:
    with small_tmpfs(node.directory / "small") as disk:
        secret = new_canary()
        reply = node.enable("file", "file", file_path=str(disk / "audit.log"), write_deadline=f"{DEADLINE}s")
        assert reply.status_code == 204, reply.text
        assert node.request("POST", "secret/data/kept", json={"data": {"password": secret}}).status_code == 200

        filler = disk / "filler"
        with pytest.raises(OSError, match="No space left"):
            fill(filler)
        # The audit file's last page may still hold a few lines: those requests are recorded, and served.
        for _ in range(50):
            if node.request("GET", "auth/token/lookup-self").status_code == 500:
                break
        else:
            raise AssertionError("the full disk never refused a line")
        refused_quickly(node, secret)

        filler.unlink()
        served_again(node, secret)
        node.server.stop()


def test_hvac_manages_devices_and_computes_hashes_the_way_it_does_with_vault(node: AuditedNode) -> None:
    client = hvac.Client(url=node.server.address, token=node.root, timeout=15)
    log = node.directory / "hvac-audit.log"
    client.sys.enable_audit_device("file", description="from hvac", options={"file_path": str(log)},
                                   path="hvac-file")
    listed = client.sys.list_enabled_audit_devices()
    assert listed["data"]["hvac-file/"]["options"] == {"file_path": str(log)}
    assert listed["data"]["hvac-file/"]["description"] == "from hvac"
    client.secrets.kv.v2.create_or_update_secret("from-hvac", secret={"password": "hvac-secret-value"})
    digest = client.sys.calculate_hash("hvac-file", "hvac-secret-value")["data"]["hash"]
    assert digest.encode() in log.read_bytes()
    assert b"hvac-secret-value" not in log.read_bytes()
    client.sys.disable_audit_device("hvac-file")
    assert client.sys.list_enabled_audit_devices()["data"] == {}
