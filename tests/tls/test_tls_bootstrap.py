"""`strongroom operator tls bootstrap`: files, modes, what openssl sees, and a server that runs on them."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.support.server import ServerProcess, free_port
from tests.tls.tls_harness import client_context, running

from strongroom.cli.main import main


def _bootstrap(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["operator", "tls", "bootstrap", *args])
    return code, capsys.readouterr().out


def _openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, check=True, text=True, timeout=20).stdout


def test_bootstrap_writes_a_ca_and_a_server_certificate_openssl_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "tls"
    code, out = _bootstrap(capsys, f"-dir={out_dir}")
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["ca-key.pem", "ca.pem", "server-key.pem", "server.pem"]
    assert (out_dir.stat().st_mode & 0o777) == 0o700
    assert (out_dir / "server-key.pem").stat().st_mode & 0o777 == 0o600
    assert (out_dir / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    assert "OK" in _openssl("verify", "-CAfile", str(out_dir / "ca.pem"), str(out_dir / "server.pem"))
    text = _openssl("x509", "-in", str(out_dir / "server.pem"), "-noout", "-text")
    assert "DNS:localhost" in text
    assert "IP Address:127.0.0.1" in text
    assert "TLS Web Server Authentication" in text
    assert "prime256v1" in text
    ca = x509.load_pem_x509_certificate((out_dir / "ca.pem").read_bytes())
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert datetime.timedelta(days=3649) < lifetime < datetime.timedelta(days=3651)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert f'tls_cert_file   = "{out_dir.resolve() / "server.pem"}"' in out
    assert f"export VAULT_CACERT={out_dir.resolve() / 'ca.pem'}" in out
    assert "PRIVATE KEY" not in out


def test_bootstrap_takes_names_and_rsa(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _bootstrap(capsys, f"-dir={tmp_path}", "-name=vault.example.com,10.0.0.5", "-name=::1",
                         "-key-type=rsa", "-days=30")
    assert code == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["vault.example.com"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.5", "::1"]
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc < datetime.timedelta(days=31)


def test_bootstrap_never_overwrites_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _bootstrap(capsys, f"-dir={tmp_path}")[0] == 0
    before = (tmp_path / "ca.pem").read_bytes()
    assert _bootstrap(capsys, f"-dir={tmp_path}")[0] == 1
    assert (tmp_path / "ca.pem").read_bytes() == before
    assert _bootstrap(capsys, f"-dir={tmp_path}", "-force")[0] == 0
    assert (tmp_path / "ca.pem").read_bytes() != before


def test_bootstrap_refuses_to_write_through_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    out_dir = tmp_path / "tls"
    out_dir.mkdir()
    os.symlink(target, out_dir / "server-key.pem")
    assert _bootstrap(capsys, f"-dir={out_dir}", "-force")[0] == 1
    assert target.read_text() == "keep"


def test_bootstrap_refuses_an_invalid_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _bootstrap(capsys, f"-dir={tmp_path}", "-name=bad name")[0] == 1
    assert not (tmp_path / "ca.pem").exists()


def test_a_server_runs_on_the_printed_listener_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _bootstrap(capsys, f"-dir={tmp_path / 'tls'}")
    block = re.search(r'listener "tcp" \{.*?\n\}', out, re.DOTALL)
    assert block is not None
    port = free_port()
    listener = block.group(0).replace("127.0.0.1:8200", f"127.0.0.1:{port}")
    config = tmp_path / "server.hcl"
    config.write_text(f'storage "sqlite" {{\n  path = "{tmp_path / "db"}"\n}}\n{listener}\nworkers = 1\n')
    ca = Path(out.split("export VAULT_CACERT=")[1].strip())
    server = ServerProcess(f"https://127.0.0.1:{port}", [sys.executable, "-m", "strongroom", "server", "-config",
                                                           str(config)], tmp_path / "server.log")
    with running(server, client_context(ca)):
        assert httpx.get(server.address + "/v1/sys/health", verify=client_context(ca), timeout=10).status_code == 501
        status = subprocess.run([sys.executable, "-m", "strongroom", "status", "-format=json"], capture_output=True,
                                env={**os.environ, "VAULT_ADDR": server.address, "VAULT_CACERT": str(ca)},
                                timeout=30, check=False, text=True)
        assert '"initialized": false' in status.stdout, status.stderr
