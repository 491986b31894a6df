"""Real server processes over real TLS: protocol versions, cipher suites, client certificates, hvac."""

from __future__ import annotations

import ssl
import subprocess
import warnings
from pathlib import Path

import httpx
import hvac
import pytest
import requests
from tests.tls.tls_harness import (
    ClientCA,
    client_context,
    handshake,
    port_of,
    running,
    server_files,
    tls_server_process,
)

from strongroom.cli.commands.tls_bootstrap import bootstrap, write_bundle


def _s_client(port: int, *args: str) -> str:
    """openssl s_client's whole transcript of one connection attempt."""
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", *args],
        input=b"", capture_output=True, timeout=20, check=False,
    )
    return (done.stdout + done.stderr).decode(errors="replace")


def test_listener_speaks_tls13_and_tls12_and_refuses_tls11(tmp_path: Path) -> None:
    ca = server_files(tmp_path)
    with running(tls_server_process(tmp_path, workers=1), client_context(ca)) as server:
        port = port_of(server)
        assert handshake(port, client_context(ca))[0] == "TLSv1.3"
        assert handshake(port, client_context(ca, maximum=ssl.TLSVersion.TLSv1_2))[0] == "TLSv1.2"
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(str(ca))
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        with warnings.catch_warnings():  # the deprecation is the point: we are the legacy client here
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(ssl.SSLError) as refused:
            handshake(port, old)
        # The server ended it (alert or close), not a client that could not even offer TLS 1.1.
        assert "NO_PROTOCOLS_AVAILABLE" not in str(refused.value).upper()
        transcript = _s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        # The server answered no ServerHello: no certificate, no cipher (asyncio closes without the alert).
        assert "no peer certificate available" in transcript, transcript
        assert "Cipher is (NONE)" in transcript, transcript
        assert "Cipher is ECDHE-" in _s_client(port, "-tls1_2")  # the same client, allowed TLS 1.2


def test_tls_min_version_tls13_refuses_tls12(tmp_path: Path) -> None:
    ca = server_files(tmp_path)
    process = tls_server_process(tmp_path, '  tls_min_version = "tls13"\n', workers=1)
    with running(process, client_context(ca)) as server:
        port = port_of(server)
        assert handshake(port, client_context(ca))[0] == "TLSv1.3"
        with pytest.raises(ssl.SSLError):  # the server closes at the ClientHello
            handshake(port, client_context(ca, maximum=ssl.TLSVersion.TLSv1_2))


def test_tls12_offers_only_ecdhe_aead_suites(tmp_path: Path) -> None:
    # An RSA server key, so static-RSA key exchange would be possible if the server allowed it.
    write_bundle(bootstrap(["localhost", "127.0.0.1"], key_type="rsa"), tmp_path)
    ca = tmp_path / "ca.pem"
    with running(tls_server_process(tmp_path, workers=1), client_context(ca)) as server:
        port = port_of(server)
        for refused in ("AES128-GCM-SHA256", "AES256-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"):
            transcript = _s_client(port, "-tls1_2", "-cipher", f"{refused}:@SECLEVEL=0")
            assert "CONNECTED(" in transcript, refused  # the ClientHello went out, offering only this suite
            assert "no cipher match" not in transcript, refused
            assert "Cipher is (NONE)" in transcript, refused
        for accepted in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"):
            assert f"Cipher is {accepted}" in _s_client(port, "-tls1_2", "-cipher", accepted)
        # What the server offers, asked through Python: only AEAD suites with ECDHE.
        context = client_context(ca, maximum=ssl.TLSVersion.TLSv1_2)
        context.set_ciphers("ALL:@SECLEVEL=0")
        assert handshake(port, context)[1].startswith("ECDHE-RSA-")


def test_required_client_certificate_is_checked_at_the_handshake(tmp_path: Path) -> None:
    ca = server_files(tmp_path)
    clients = ClientCA.create(tmp_path, "clients")
    strangers = ClientCA.create(tmp_path, "strangers")
    good = clients.issue("web-1")
    foreign = strangers.issue("web-1")
    extra = f'  tls_client_ca_file = "{clients.path}"\n  tls_require_and_verify_client_cert = true\n'
    with running(tls_server_process(tmp_path, extra), client_context(ca, good)) as server:
        port = port_of(server)
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                handshake(port, client_context(ca, maximum=version))
            with pytest.raises((ssl.SSLError, ConnectionError)):
                handshake(port, client_context(ca, foreign, maximum=version))
            assert handshake(port, client_context(ca, good, maximum=version))[0] in ("TLSv1.2", "TLSv1.3")
        answer = httpx.get(server.address + "/v1/sys/health", verify=client_context(ca, good), timeout=10)
        assert answer.status_code == 501  # not initialised, but served
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.address + "/v1/sys/health", verify=client_context(ca), timeout=10)

        # hvac as its documentation says: verify= the CA file, cert= (certificate, key)
        client = hvac.Client(url=server.address, verify=str(ca), cert=(str(good.cert), str(good.key)))
        refused = hvac.Client(url=server.address, verify=str(ca), cert=(str(foreign.cert), str(foreign.key)))
        try:
            assert client.sys.is_initialized() is False
            with pytest.raises(requests.exceptions.ConnectionError):  # SSLError is one
                refused.sys.is_initialized()
        finally:
            client.adapter.close()
            refused.adapter.close()


def test_an_expired_client_certificate_is_refused(tmp_path: Path) -> None:
    import datetime

    ca = server_files(tmp_path)
    clients = ClientCA.create(tmp_path, "clients")
    good = clients.issue("web-1")
    expired = clients.issue("old", now=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=40), days=30)
    extra = f'  tls_client_ca_file = "{clients.path}"\n  tls_require_and_verify_client_cert = true\n'
    process = tls_server_process(tmp_path, extra, workers=1)
    with running(process, client_context(ca, good)) as server, pytest.raises((ssl.SSLError, ConnectionError)):
        handshake(port_of(server), client_context(ca, expired))
