"""The listener's SSLContext (server.tls) on its own: versions, suites, client-cert modes, reload."""

from __future__ import annotations

import contextlib
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tls.tls_harness import ClientCA, server_files

from strongroom.cli.commands.tls_bootstrap import bootstrap, write_bundle
from strongroom.server.settings import ListenerSettings
from strongroom.server.tls import ListenerTLS, TLSConfigError, build_server_context


def _listener(tmp: Path, **changes: object) -> ListenerSettings:
    base: dict[str, object] = {"tls_cert_file": str(tmp / "server.pem"), "tls_key_file": str(tmp / "server-key.pem")}
    return ListenerSettings(**{**base, **changes})  # type: ignore[arg-type]


def _served_certificate(server: ssl.SSLContext, ca: Path) -> bytes:
    """The certificate ``server`` presents, from one in-memory handshake."""
    client_ctx = ssl.create_default_context(cafile=str(ca))
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (client, srv):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    return client.getpeercert(binary_form=True) or b""


def test_context_allows_tls12_and_up_with_ecdhe_aead_suites_only(tmp_path: Path) -> None:
    server_files(tmp_path)
    context = build_server_context(_listener(tmp_path))
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    names = [c["name"] for c in context.get_ciphers()]
    assert names
    for name in names:
        assert name.startswith("TLS_") or (name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name)), name
    assert not any("CBC" in n or n.endswith("-SHA") for n in names)
    assert context.verify_mode is ssl.CERT_NONE


def test_tls13_minimum_is_honoured(tmp_path: Path) -> None:
    server_files(tmp_path)
    assert build_server_context(_listener(tmp_path, tls_min_version="tls13")).minimum_version is ssl.TLSVersion.TLSv1_3
    with pytest.raises(TLSConfigError, match="tls11"):
        build_server_context(_listener(tmp_path, tls_min_version="tls11"))


def test_client_certificate_modes(tmp_path: Path) -> None:
    server_files(tmp_path)
    clients = ClientCA.create(tmp_path, "clients")
    optional = build_server_context(_listener(tmp_path, tls_client_ca_file=str(clients.path)))
    assert optional.verify_mode is ssl.CERT_OPTIONAL
    required = build_server_context(
        _listener(tmp_path, tls_client_ca_file=str(clients.path), tls_require_and_verify_client_cert=True)
    )
    assert required.verify_mode is ssl.CERT_REQUIRED
    with pytest.raises(TLSConfigError, match="tls_client_ca_file is required"):
        build_server_context(_listener(tmp_path, tls_require_and_verify_client_cert=True))
    with pytest.raises(TLSConfigError, match="tls_client_ca_file"):
        build_server_context(_listener(tmp_path, tls_client_ca_file=str(tmp_path / "missing.pem")))


def test_unusable_files_are_named_without_their_contents(tmp_path: Path) -> None:
    server_files(tmp_path)
    canary_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWNhbmFyeQ==\n-----END PRIVATE KEY-----\n"
    (tmp_path / "bad-key.pem").write_text(canary_key)
    with pytest.raises(TLSConfigError) as refused:
        build_server_context(_listener(tmp_path, tls_key_file=str(tmp_path / "bad-key.pem")))
    assert "bad-key.pem" in str(refused.value)
    assert "c2VjcmV0LWNhbmFyeQ" not in str(refused.value)
    with pytest.raises(TLSConfigError, match="tls_disable"):
        build_server_context(ListenerSettings(tls_disable=True))


def test_reload_installs_a_new_pair_and_refuses_a_broken_one(tmp_path: Path) -> None:
    first_ca = server_files(tmp_path)
    live = ListenerTLS.create(_listener(tmp_path))
    before = _served_certificate(live.context, first_ca)

    fresh = tmp_path / "fresh"
    write_bundle(bootstrap(["localhost"]), fresh)
    shutil.copyfile(fresh / "server.pem", tmp_path / "server.pem")
    shutil.copyfile(fresh / "server-key.pem", tmp_path / "server-key.pem")
    assert live.reload() is True
    after = _served_certificate(live.context, fresh / "ca.pem")
    assert after != before

    shutil.copyfile(first_ca.parent / "ca.pem", tmp_path / "server.pem")  # a certificate without its key
    assert live.reload() is False
    assert _served_certificate(live.context, fresh / "ca.pem") == after


def test_server_with_unusable_tls_files_exits_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "c.hcl"
    config.write_text(
        f'storage "sqlite" {{\n  path = "{tmp_path / "db"}"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:1"\n  tls_cert_file = "{tmp_path / "none.pem"}"\n'
        f'  tls_key_file = "{tmp_path / "none-key.pem"}"\n}}\nworkers = 2\n'
    )
    done = subprocess.run([sys.executable, "-m", "strongroom", "server", "-config", str(config)],
                          capture_output=True, timeout=30, check=False)
    assert done.returncode == 1
    assert b"cannot load the TLS certificate" in done.stderr + done.stdout
    assert b"Traceback" not in done.stderr + done.stdout


def test_reload_if_changed_acts_only_on_replaced_files(tmp_path: Path) -> None:
    server_files(tmp_path)
    live = ListenerTLS.create(_listener(tmp_path))
    assert live.reload_if_changed() is None
    fresh = tmp_path / "fresh"
    write_bundle(bootstrap(["localhost"]), fresh)
    shutil.copyfile(fresh / "server-key.pem", tmp_path / "server-key.pem")
    assert live.reload_if_changed() is False  # key replaced, certificate not yet: refused, old pair kept
    shutil.copyfile(fresh / "server.pem", tmp_path / "server.pem")
    assert live.reload_if_changed() is True
    assert live.reload_if_changed() is None
    assert _served_certificate(live.context, fresh / "ca.pem")
