"""hvac's lease API (``client.sys.*_lease*``) against a real dev server process, with PKI ``generate_lease``."""

from __future__ import annotations

import time

import hvac
import hvac.exceptions
import pytest
from tests.compat.hvac_support import unique


@pytest.fixture
def leased_pki(root: hvac.Client) -> str:
    """A fresh pki mount with a root CA and a role ``leased`` whose certificates carry leases."""
    mount = unique("pkilease")
    root.sys.enable_secrets_engine("pki", path=mount)
    root.sys.tune_mount_configuration(mount, max_lease_ttl="8760h")
    root.secrets.pki.generate_root("internal", "Lease Root", {"key_type": "ec", "ttl": "8760h"}, mount_point=mount)
    root.secrets.pki.create_or_update_role(
        "leased", {"allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec",
                   "generate_lease": True, "ttl": "1h"},
        mount_point=mount,
    )
    return mount


def _issue(root: hvac.Client, mount: str) -> tuple[str, str]:
    answer = root.secrets.pki.generate_certificate("leased", "www.example.com", mount_point=mount)
    return answer["lease_id"], answer["data"]["serial_number"]


def _revocation_time(root: hvac.Client, mount: str, serial: str) -> int:
    return int(root.read(f"{mount}/cert/{serial}")["data"]["revocation_time"])


def test_read_lease_shows_vaults_lookup_fields(root: hvac.Client, leased_pki: str) -> None:
    lease_id, _ = _issue(root, leased_pki)
    assert lease_id.startswith(f"{leased_pki}/issue/leased/")
    data = root.sys.read_lease(lease_id)["data"]
    assert data["id"] == lease_id
    assert 3500 < data["ttl"] <= 3600
    assert data["renewable"] is False
    assert data["issue_time"].endswith("Z")


def test_list_leases_lists_the_roles_leases(root: hvac.Client, leased_pki: str) -> None:
    lease_id, _ = _issue(root, leased_pki)
    keys = root.sys.list_leases(f"{leased_pki}/issue/leased/")["data"]["keys"]
    assert lease_id.rsplit("/", 1)[1] in keys


def test_renew_lease_of_a_certificate_is_refused(root: hvac.Client, leased_pki: str) -> None:
    lease_id, _ = _issue(root, leased_pki)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not renewable"):
        root.sys.renew_lease(lease_id, increment=60)


def test_revoke_lease_revokes_the_certificate(root: hvac.Client, leased_pki: str) -> None:
    lease_id, serial = _issue(root, leased_pki)
    assert _revocation_time(root, leased_pki, serial) == 0
    root.sys.revoke_lease(lease_id)
    assert _revocation_time(root, leased_pki, serial) > 0
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.read_lease(lease_id)


def test_revoke_prefix_revokes_every_certificate_under_it(root: hvac.Client, leased_pki: str) -> None:
    issued = [_issue(root, leased_pki) for _ in range(3)]
    root.sys.revoke_prefix(f"{leased_pki}/issue/leased")
    assert all(_revocation_time(root, leased_pki, serial) > 0 for _, serial in issued)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.list_leases(f"{leased_pki}/issue/leased/")


def test_revoke_force_forgets_leases_and_leaves_certificates_alone(root: hvac.Client, leased_pki: str) -> None:
    lease_id, serial = _issue(root, leased_pki)
    root.sys.revoke_force(f"{leased_pki}/issue/")
    assert _revocation_time(root, leased_pki, serial) == 0
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.sys.read_lease(lease_id)


def test_the_servers_expiry_loop_removes_an_expired_lease(root: hvac.Client, leased_pki: str) -> None:
    # The one test here on the real clock: it proves the loop runs in the server process at all.
    root.secrets.pki.create_or_update_role(
        "brief", {"allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec",
                  "generate_lease": True, "ttl": "2s"},
        mount_point=leased_pki,
    )
    answer = root.secrets.pki.generate_certificate("brief", "www.example.com", mount_point=leased_pki)
    lease_id = answer["lease_id"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            root.sys.read_lease(lease_id)
        except hvac.exceptions.InvalidRequest:
            return
        time.sleep(0.2)
    raise AssertionError("the expired lease was never revoked")
