"""The transit seal over TLS: server A serves HTTPS from a private CA, server B verifies it with tls_ca_cert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, running, sqlite_server_process
from tests.tls import tls_harness

KEY_NAME = "autounseal"


@pytest.fixture
def tls_a(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path, str]]:
    """(server A over TLS, its CA file, its root token), initialised, unsealed, with a transit key."""
    directory = tmp_path / "a"
    directory.mkdir()
    ca = tls_harness.server_files(directory)
    context = tls_harness.client_context(ca)
    server = tls_harness.tls_server_process(directory, workers=1)
    with tls_harness.running(server, context):
        with httpx.Client(base_url=server.address + "/v1/", verify=context) as client:
            init = client.put("sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
            assert client.put("sys/unseal", json={"key": init["keys"][0]}).json()["sealed"] is False
            headers = {"X-Vault-Token": init["root_token"]}
            assert client.post("sys/mounts/transit", json={"type": "transit"}, headers=headers).status_code == 204
            assert client.post(f"transit/keys/{KEY_NAME}", json={}, headers=headers).status_code in (200, 204)
        yield server, ca, str(init["root_token"])


def server_b(tmp_path: Path, a: ServerProcess, token: str, tls: str) -> ServerProcess:
    (tmp_path / "b").mkdir(exist_ok=True)
    block = f'seal "transit" {{\n  address = "{a.address}"\n  key_name = "{KEY_NAME}"\n{tls}}}\n'
    server = sqlite_server_process(tmp_path / "b", workers=1, extra=block)
    server.env["VAULT_TOKEN"] = token
    return server


@pytest.mark.parametrize("server_name", ["", '  tls_server_name = "localhost"\n'])
def test_a_server_verified_with_tls_ca_cert_protects_the_root_key_across_a_restart(
    tmp_path: Path, tls_a: tuple[ServerProcess, Path, str], server_name: str
) -> None:
    a, ca, token = tls_a
    b = server_b(tmp_path, a, token, f'  tls_ca_cert = "{ca}"\n{server_name}')
    with running(b):
        init = httpx.put(b.address + "/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert init.status_code == 200, init.text
    with running(b):
        status = httpx.get(b.address + "/v1/sys/seal-status").json()
        assert (status["type"], status["sealed"]) == ("transit", False)
    assert token not in b.log_text()


def test_a_server_whose_certificate_is_not_trusted_is_not_used(
    tmp_path: Path, tls_a: tuple[ServerProcess, Path, str]
) -> None:
    a, _ca, token = tls_a
    b = server_b(tmp_path, a, token, "")
    with running(b):
        assert httpx.get(b.address + "/v1/sys/seal-status").json()["initialized"] is False
        refused = httpx.put(b.address + "/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert refused.status_code == 500
    assert f"transit seal: {a.address}: cannot reach the transit server (ConnectError)" in b.log_text()


def test_a_certificate_for_another_name_is_refused(tmp_path: Path, tls_a: tuple[ServerProcess, Path, str]) -> None:
    a, ca, token = tls_a
    b = server_b(tmp_path, a, token, f'  tls_ca_cert = "{ca}"\n  tls_server_name = "transit.example"\n')
    with running(b):
        refused = httpx.put(b.address + "/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert refused.status_code == 500
    assert "cannot reach the transit server" in b.log_text()
