"""``strongroom lease`` against the session's dev server, with PKI certificates that carry leases."""

from __future__ import annotations

import json
import uuid

import pytest
from tests.cli.cli_harness import Cli


@pytest.fixture
def leased_mount(server_cli: Cli) -> str:
    mount = f"pkicli-{uuid.uuid4().hex[:8]}"
    assert server_cli("secrets", "enable", f"-path={mount}", "pki").exit_code == 0
    server_cli("write", f"{mount}/root/generate/internal", "common_name=Cli Root", "key_type=ec", "ttl=720h")
    server_cli("write", f"{mount}/roles/leased", "allowed_domains=example.com", "allow_subdomains=true",
               "key_type=ec", "generate_lease=true", "ttl=1h")
    return mount


def _issue(server_cli: Cli, mount: str) -> str:
    answer = server_cli("write", "-format=json", f"{mount}/issue/leased", "common_name=a.example.com")
    lease_id: str = json.loads(answer.stdout)["lease_id"]
    return lease_id


def test_lease_lookup_list_renew_and_revoke(server_cli: Cli, leased_mount: str) -> None:
    lease_id = _issue(server_cli, leased_mount)
    looked = server_cli("lease", "lookup", lease_id)
    assert looked.exit_code == 0
    assert any(line.split()[:2] == ["id", lease_id] for line in looked.stdout.splitlines())
    assert json.loads(server_cli("lease", "lookup", "-format=json", lease_id).stdout)["renewable"] is False

    listed = server_cli("lease", "list", f"{leased_mount}/issue/leased/")
    assert lease_id.rsplit("/", 1)[1] in listed.stdout.split()

    refused = server_cli("lease", "renew", "-increment=1h", lease_id)
    assert refused.exit_code == 2
    assert "not renewable" in refused.stderr

    revoked = server_cli("lease", "revoke", lease_id)
    assert revoked.stdout.strip() == "All revocation operations queued successfully!"
    assert server_cli("lease", "lookup", lease_id).exit_code == 2


def test_lease_revoke_prefix_and_force(server_cli: Cli, leased_mount: str) -> None:
    first, second = _issue(server_cli, leased_mount), _issue(server_cli, leased_mount)
    assert server_cli("lease", "revoke", "-force", first).exit_code != 0
    assert server_cli("lease", "revoke", "-prefix", first).exit_code == 0
    assert server_cli("lease", "revoke", "-prefix", "-force", f"{leased_mount}/issue").exit_code == 0
    assert server_cli("lease", "lookup", second).exit_code == 2
    assert "No leases found" in server_cli("lease", "list", f"{leased_mount}/issue/").stdout
