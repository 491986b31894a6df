"""Certificate reload on SIGHUP and on replaced files, without a restart, on a real two-worker node."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import time
from pathlib import Path

from tests.support.server import ServerProcess
from tests.tls.tls_harness import client_context, handshake, port_of, running, server_files, tls_server_process

from strongroom.cli.commands.tls_bootstrap import bootstrap, write_bundle
from strongroom.server.tls import WATCH_INTERVAL

CONNECTIONS = 12  # enough that both workers' listeners are hit (the kernel spreads connections)


def _leaf_der(pem_file: Path) -> bytes:
    """The first certificate of a PEM file, DER."""
    return ssl.PEM_cert_to_DER_cert(pem_file.read_text().split("-----END CERTIFICATE-----")[0]
                                    + "-----END CERTIFICATE-----\n")


def _served(port: int, context: ssl.SSLContext) -> set[bytes]:
    return {handshake(port, context)[2] for _ in range(CONNECTIONS)}


def _replace(target: Path, source: Path) -> None:
    scratch = target.with_suffix(".new")
    shutil.copyfile(source, scratch)
    os.replace(scratch, target)


def _wait_for(port: int, context: ssl.SSLContext, wanted: bytes, seconds: float = 10) -> set[bytes]:
    deadline = time.monotonic() + seconds
    seen = _served(port, context)
    while seen != {wanted} and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = _served(port, context)
    return seen


def _wait_for_log(server: ServerProcess, text: str, count: int, seconds: float = 10) -> int:
    deadline = time.monotonic() + seconds
    while server.log_text().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return server.log_text().count(text)


def test_sighup_installs_new_certificate_without_restart(tmp_path: Path) -> None:
    first_ca = server_files(tmp_path)
    fresh = tmp_path / "fresh"
    write_bundle(bootstrap(["localhost", "127.0.0.1"]), fresh)
    context = client_context(first_ca)
    context.load_verify_locations(str(fresh / "ca.pem"))
    old_der = _leaf_der(tmp_path / "server.pem")
    new_der = _leaf_der(fresh / "server.pem")
    with running(tls_server_process(tmp_path, workers=2), context) as server:
        assert server.process is not None
        port, pid = port_of(server), server.process.pid
        assert _served(port, context) == {old_der}

        _replace(tmp_path / "server-key.pem", fresh / "server-key.pem")
        _replace(tmp_path / "server.pem", fresh / "server.pem")
        os.kill(pid, signal.SIGHUP)
        # Logged per worker and per trigger: two SIGHUP reloads prove the signal path, whatever the file watch did.
        assert _wait_for_log(server, f"reloaded for 127.0.0.1:{port} (SIGHUP)", 2) == 2
        assert _wait_for(port, context, new_der) == {new_der}
        assert server.process.poll() is None
        assert server.process.pid == pid

        # A broken pair (key of another certificate) is refused; the listener keeps the current one.
        other = tmp_path / "other"
        write_bundle(bootstrap(["localhost"]), other)
        _replace(tmp_path / "server-key.pem", other / "server-key.pem")
        os.kill(pid, signal.SIGHUP)
        assert _wait_for_log(server, "(SIGHUP), keeping the current certificate", 2) == 2
        assert _served(port, context) == {new_der}
        assert "PRIVATE KEY" not in server.log_text()


def test_replaced_files_are_picked_up_without_a_signal(tmp_path: Path) -> None:
    first_ca = server_files(tmp_path)
    fresh = tmp_path / "fresh"
    write_bundle(bootstrap(["localhost", "127.0.0.1"]), fresh)
    context = client_context(first_ca)
    context.load_verify_locations(str(fresh / "ca.pem"))
    new_der = _leaf_der(fresh / "server.pem")
    with running(tls_server_process(tmp_path, workers=2), context) as server:
        port = port_of(server)
        assert new_der not in _served(port, context)
        _replace(tmp_path / "server-key.pem", fresh / "server-key.pem")
        _replace(tmp_path / "server.pem", fresh / "server.pem")
        assert _wait_for(port, context, new_der, seconds=3 * WATCH_INTERVAL) == {new_der}
        assert _wait_for_log(server, f"reloaded for 127.0.0.1:{port} (files replaced)", 2) == 2
