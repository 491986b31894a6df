"""Lease expiry in a supervisor's node: exactly one worker runs the loop, and it revokes on time."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.conftest import Node


def _worker_index(pid: int) -> int:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return int(args[args.index(b"--worker-index") + 1])


def test_exactly_one_worker_is_told_to_run_the_jobs(node: Node) -> None:
    assert sorted(_worker_index(pid) for pid in node.workers()) == [0, 1]


def test_an_expired_lease_is_revoked_by_the_node(node: Node) -> None:
    api = node.api
    assert api.request("POST", "sys/mounts/pki", json={"type": "pki"}).status_code == 204
    api.request("POST", "pki/root/generate/internal", json={"common_name": "Node Root", "key_type": "ec"})
    api.request("POST", "pki/roles/brief", json={"allowed_domains": ["example.com"], "allow_subdomains": True,
                                                  "key_type": "ec", "generate_lease": True, "ttl": "2s"})
    lease_id = api.request("POST", "pki/issue/brief", json={"common_name": "a.example.com"}).json()["lease_id"]
    assert lease_id.startswith("pki/issue/brief/")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if api.request("PUT", "sys/leases/lookup", json={"lease_id": lease_id}).status_code == 400:
            return
        time.sleep(0.2)
    raise AssertionError("the expired lease was never revoked")
