"""The cert auth method over real mTLS: hvac configures entries and logs in with its client certificate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hvac
import hvac.exceptions
import pytest
from tests.tls.tls_harness import ClientCA, Pair, client_context, running, server_files, tls_server_process


@dataclass
class Setup:
    address: str
    ca: Path
    clients: ClientCA
    web: Pair
    ops: Pair
    root: hvac.Client

    def login(self, pair: Pair, name: str = "") -> tuple[dict[str, Any], bool]:
        """hvac's cert login with ``pair`` as the connection's client certificate; (answer, token works)."""
        machine = hvac.Client(url=self.address, verify=str(self.ca), cert=(str(pair.cert), str(pair.key)))
        try:
            answer = machine.auth.cert.login(name=name, cert_pem=str(pair.cert), key_pem=str(pair.key))
            return answer, bool(machine.is_authenticated())
        finally:
            machine.adapter.close()

    def raw_login(self, pair: Pair | None, body: dict[str, str] | None = None) -> httpx.Response:
        context = client_context(self.ca, pair)
        return httpx.post(self.address + "/v1/auth/cert/login", json=body or {}, verify=context, timeout=10)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("mtls")
    ca = server_files(tmp)
    clients = ClientCA.create(tmp, "clients")
    extra = f'  tls_client_ca_file = "{clients.path}"\n'  # ask for a client certificate, don't require one
    with running(tls_server_process(tmp, extra, workers=1), client_context(ca)) as server:
        with httpx.Client(base_url=server.address, verify=client_context(ca), timeout=30) as http:
            init = http.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
            assert http.put("/v1/sys/unseal", json={"key": init["keys_base64"][0]}).json()["sealed"] is False
        root = hvac.Client(url=server.address, token=init["root_token"], verify=str(ca))
        root.sys.enable_auth_method("cert")
        root.auth.cert.create_ca_certificate_role(
            "web", certificate=clients.path.read_text(),
            allowed_common_names=["web-*"], token_policies=["web"], token_ttl=600,
        )
        try:
            yield Setup(server.address, ca, clients, clients.issue("web-1"), clients.issue("ops-1"), root)
        finally:
            root.adapter.close()


def test_entries_are_listed_and_read_through_hvac(setup: Setup) -> None:
    assert setup.root.auth.cert.list_certificate_roles()["data"]["keys"] == ["web"]
    entry = setup.root.auth.cert.read_ca_certificate_role("web")["data"]
    assert entry["allowed_common_names"] == ["web-*"]
    assert entry["token_policies"] == ["web"]
    assert "BEGIN CERTIFICATE" in entry["certificate"]


def test_hvac_logs_in_with_its_client_certificate(setup: Setup) -> None:
    answer, token_works = setup.login(setup.web)
    assert "web" in answer["auth"]["policies"]
    assert answer["auth"]["metadata"]["common_name"] == "web-1"
    assert answer["auth"]["lease_duration"] == 600
    assert token_works
    named, _ = setup.login(setup.web, name="web")
    assert named["auth"]["metadata"]["cert_name"] == "web"


def test_login_without_a_client_certificate_is_refused(setup: Setup) -> None:
    answer = setup.raw_login(None)
    assert answer.status_code == 400
    assert answer.json()["errors"] == ["invalid certificate or no client certificate supplied"]


def test_a_certificate_in_the_body_does_not_stand_in_for_the_connections(setup: Setup) -> None:
    answer = setup.raw_login(None, {"certificate": setup.web.cert.read_text(), "name": "web"})
    assert answer.status_code == 400
    assert "client_token" not in answer.text


def test_certificate_of_the_trusted_ca_with_a_refused_common_name_gets_no_token(setup: Setup) -> None:
    answer = setup.raw_login(setup.ops)
    assert answer.status_code == 400
    assert answer.json()["errors"] == ["no chain matching all constraints could be found for this login certificate"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        setup.login(setup.ops)


def test_forged_entry_name_gets_no_token(setup: Setup) -> None:
    for name in ("admin", "../web", "WEB"):
        assert setup.raw_login(setup.web, {"name": name}).status_code == 400


def test_certificate_from_an_untrusted_ca_is_refused_at_the_handshake(setup: Setup, tmp_path: Path) -> None:
    stranger = ClientCA.create(tmp_path, "strangers").issue("web-1")
    with pytest.raises(httpx.HTTPError):
        setup.raw_login(stranger)


def test_cli_logs_in_with_method_cert_and_its_client_certificate(setup: Setup, tmp_path: Path) -> None:
    env = {**os.environ, "VAULT_ADDR": setup.address, "VAULT_CACERT": str(setup.ca),
           "STRONGROOM_TOKEN_FILE": str(tmp_path / "token")}
    env.pop("VAULT_TOKEN", None)
    env.pop("STRONGROOM_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "strongroom", "login", "-method=cert", f"-client-cert={setup.web.cert}",
         f"-client-key={setup.web.key}", "-format=json", "name=web"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["auth"]["metadata"]["cert_name"] == "web"
    assert (tmp_path / "token").read_text().strip()
    refused = subprocess.run(
        [sys.executable, "-m", "strongroom", "login", "-method=cert", f"-client-cert={setup.ops.cert}",
         f"-client-key={setup.ops.key}", "-no-store"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert refused.returncode == 2
    assert "no chain matching all constraints" in refused.stderr


def test_hvac_deletes_an_entry_and_its_logins_stop(setup: Setup) -> None:
    setup.root.auth.cert.create_ca_certificate_role("temp", certificate=setup.clients.path.read_text(),
                                                    allowed_common_names=["ops-*"])
    answer, _ = setup.login(setup.ops, name="temp")
    assert answer["auth"]["metadata"]["cert_name"] == "temp"
    setup.root.auth.cert.delete_certificate_role("temp")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        setup.login(setup.ops, name="temp")
