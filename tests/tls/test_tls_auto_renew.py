"""The server renews its own certificate from its PKI engine (`tls_auto_renew`), without a restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from tests.tls.tls_harness import client_context, handshake, port_of, running, server_files, tls_server_process

from strongroom.config import parse_config
from strongroom.config.tls_renew import TLSAutoRenewConfig
from strongroom.errors import ConfigError

BASE = 'storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n}\n'


def test_block_is_parsed_with_defaults() -> None:
    config = parse_config(BASE + 'tls_auto_renew {\n  role = "server"\n  token_file = "/run/t"\n}\n', "c.hcl")
    assert config.tls_auto_renew == TLSAutoRenewConfig(role="server", token_file="/run/t")
    full = parse_config(BASE + 'tls_auto_renew {\n  role = "web"\n  mount = "pki_int/"\n  token_file = "/t"\n'
                        '  renew_before = "24h"\n  check_interval = "10m"\n  ttl = "720h"\n}\n', "c.hcl")
    assert full.tls_auto_renew == TLSAutoRenewConfig(role="web", token_file="/t", mount="pki_int",
                                                     renew_before=86400, check_interval=600, ttl=720 * 3600)
    assert parse_config(BASE, "c.hcl").tls_auto_renew is None


@pytest.mark.parametrize(("body", "message"), [
    ('token_file = "/t"', "role is required"),
    ('role = "server"', "token_file is required"),
    ('role = "server"\n  token_file = "/t"\n  colour = "red"', 'unknown key "colour"'),
    ('role = "server"\n  token_file = "/t"\n  check_interval = "0s"', "check_interval: must be longer than zero"),
    ('role = "../sys"\n  token_file = "/t"', "role: must be a mount or role name"),
    ('role = "server"\n  token_file = ""', "token_file: must not be empty"),
])
def test_bad_block_is_a_located_error(body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        parse_config(BASE + f"tls_auto_renew {{\n  {body}\n}}\n", "c.hcl")
    assert "c.hcl:" in refused.value.message


def test_server_renews_its_own_certificate_from_its_pki_engine(tmp_path: Path) -> None:
    bootstrap_ca = server_files(tmp_path)
    token_file = tmp_path / "renew-token"
    extra_top = (f'tls_auto_renew {{\n  role = "server"\n  token_file = "{token_file}"\n'
                 f'  renew_before = "9600h"\n  check_interval = "1s"\n}}\n')
    process = tls_server_process(tmp_path, workers=2)
    config = Path(process.argv[-1])
    config.write_text(config.read_text() + extra_top)
    with running(process, client_context(bootstrap_ca)) as server:
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
                "allow_ip_sans": True, "server_flag": True, "key_type": "ec", "ttl": "20000h",
            }).raise_for_status()
        # Until now every attempt failed (no token file): logged, retried, the old certificate served.
        deadline = time.monotonic() + 10
        while "renewal for 127.0.0.1" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "cannot read tls_auto_renew token_file" in server.log_text()
        token_file.write_text(init["root_token"] + "\n")

        trust = tmp_path / "trust.pem"
        trust.write_text(bootstrap_ca.read_text() + root.json()["data"]["certificate"].strip() + "\n")
        context = client_context(trust)
        deadline = time.monotonic() + 20
        issuers: set[str] = set()
        while time.monotonic() < deadline:
            served = [x509.load_der_x509_certificate(handshake(port_of(server), context)[2]) for _ in range(12)]
            issuers = {c.issuer.rfc4514_string() for c in served}
            if issuers == {"CN=Strongroom PKI root"}:
                break
            time.sleep(0.2)
        assert issuers == {"CN=Strongroom PKI root"}
        assert server.process.poll() is None
        assert server.process.pid == pid
        assert (tmp_path / "server-key.pem").stat().st_mode & 0o777 == 0o600
        assert init["root_token"] not in server.log_text()
        time.sleep(2.5)  # more checks run: the new certificate (20000h) is not due, so nothing more happens
        assert server.log_text().count("renewed from pki/issue/server") == 1
