"""`strongroom operator tls renew`: the server's certificate renewed from its own PKI engine, reloaded on SIGHUP."""

from __future__ import annotations

import datetime
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.tls.tls_harness import client_context, handshake, port_of, running, server_files, tls_server_process

from strongroom.cli.commands.tls_bootstrap import bootstrap
from strongroom.server.tls_renewal import RenewalError, issue_request, renewal_due, renewed_files

DAY = datetime.timedelta(days=1)


def test_renewal_is_due_only_inside_the_window() -> None:
    cert = bootstrap(["localhost"], server_days=10).server_cert
    now = cert.not_valid_before_utc
    assert not renewal_due(cert, now, 3 * DAY)
    assert renewal_due(cert, now + 8 * DAY, 3 * DAY)
    assert renewal_due(cert, now + 20 * DAY, 3 * DAY)


def test_the_issue_request_asks_for_the_same_names() -> None:
    cert = bootstrap(["vault.example.com", "vault", "127.0.0.1", "::1"]).server_cert
    assert issue_request(cert, "24h") == {"common_name": "vault.example.com", "alt_names": "vault",
                                          "ip_sans": "127.0.0.1,::1", "ttl": "24h", "format": "pem"}


def test_a_key_that_does_not_match_the_certificate_is_not_written() -> None:
    bundle = bootstrap(["localhost"])
    other = ec.generate_private_key(ec.SECP256R1())
    answer = {
        "certificate": bundle.server_cert.public_bytes(serialization.Encoding.PEM).decode(),
        "private_key": other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()).decode(),
    }
    with pytest.raises(RenewalError, match="does not match"):
        renewed_files(answer)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "strongroom", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env}, check=False)


def test_server_certificate_is_renewed_from_its_pki_engine_without_restart(tmp_path: Path) -> None:
    bootstrap_ca = server_files(tmp_path)
    with running(tls_server_process(tmp_path, workers=2), client_context(bootstrap_ca)) as server:
        assert server.process is not None
        pid = server.process.pid
        with httpx.Client(base_url=server.address + "/v1/", verify=client_context(bootstrap_ca), timeout=30) as api:
            init = api.put("sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
            api.put("sys/unseal", json={"key": init["keys_base64"][0]}).raise_for_status()
            api.headers["X-Vault-Token"] = init["root_token"]
            api.post("sys/mounts/pki", json={"type": "pki", "config": {"max_lease_ttl": "87600h"}}).raise_for_status()
            root = api.post("pki/root/generate/internal", json={"common_name": "Strongroom PKI root",
                                                                  "key_type": "ec", "ttl": "87600h"})
            root.raise_for_status()
            api.post("pki/roles/server", json={
                "allowed_domains": "localhost", "allow_bare_domains": True, "allow_localhost": True,
                "allow_ip_sans": True, "server_flag": True, "client_flag": False, "key_type": "ec", "ttl": "720h",
            }).raise_for_status()
        pki_root = root.json()["data"]["certificate"]
        bundle = tmp_path / "trust.pem"
        bundle.write_text(bootstrap_ca.read_text() + pki_root.strip() + "\n")
        env = {"VAULT_ADDR": server.address, "VAULT_TOKEN": init["root_token"], "VAULT_CACERT": str(bundle)}
        files = ["-role=server", f"-cert-file={tmp_path / 'server.pem'}", f"-key-file={tmp_path / 'server-key.pem'}",
                 f"-pid={pid}"]
        before = (tmp_path / "server.pem").read_bytes()

        not_due = _cli(env, "operator", "tls", "renew", *files)  # a fresh 1-year certificate, 72h window
        assert not_due.returncode == 0, not_due.stderr
        assert "Not due" in not_due.stdout
        assert (tmp_path / "server.pem").read_bytes() == before

        renewed = _cli(env, "operator", "tls", "renew", "-before=400d", *files)
        assert renewed.returncode == 0, renewed.stderr
        assert "Renewed" in renewed.stdout
        assert (tmp_path / "server-key.pem").stat().st_mode & 0o777 == 0o600

        trust_pki = client_context(bundle)
        deadline = time.monotonic() + 10
        issuers: set[str] = set()
        while time.monotonic() < deadline:
            served = [x509.load_der_x509_certificate(handshake(port_of(server), trust_pki)[2]) for _ in range(12)]
            issuers = {c.issuer.rfc4514_string() for c in served}
            if issuers == {"CN=Strongroom PKI root"}:
                break
            time.sleep(0.1)
        assert issuers == {"CN=Strongroom PKI root"}
        san = served[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["localhost"]
        assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        assert server.process.poll() is None
        assert server.process.pid == pid
        # Clients that trust only the PKI root now verify the server.
        only_pki = tmp_path / "pki-root.pem"
        only_pki.write_text(pki_root)
        assert httpx.get(server.address + "/v1/sys/health", verify=ssl.create_default_context(cafile=str(only_pki)),
                         timeout=10).status_code == 200
