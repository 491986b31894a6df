"""Seal migration with real server processes and a SoftHSM2 token: Shamir <-> pkcs11, and transit -> pkcs11.

The configuration changes between runs exactly as an operator changes it: the
new seal block (Shamir -> pkcs11), or the old block marked ``disabled = "true"``
(pkcs11 -> Shamir). Data written before the migration reads back after it and
after another restart.
"""

from __future__ import annotations

import json
from pathlib import Path

import hvac
import pytest

from tests.cli.cli_harness import Cli, base_env
from tests.integration.process_harness import Api, enable_kv2
from tests.seals.softhsm import Token, make_token
from tests.seals.transit_support import server_a, server_b, transit_block
from tests.support.server import ServerProcess, running, sqlite_server_process

__all__ = ["server_a"]
SECRET = {"password": "hunter2"}


def disabled(block: str) -> str:
    """``block`` (a seal block ending with ``}``) marked as the old seal of a migration."""
    return block.rstrip().removesuffix("}") + '  disabled = "true"\n}\n'


def server(tmp_path: Path, token: Token, seal: str, workers: int) -> ServerProcess:
    """The node over ``tmp_path``'s store, configured with the ``seal`` blocks given (none: shamir)."""
    node = sqlite_server_process(tmp_path, workers=workers, extra=seal)
    node.env.update(token.env)
    return node


def write_secret(api: Api) -> None:
    enable_kv2(api)
    assert api.request("POST", "secret/data/app", json={"data": SECRET}).status_code == 200


def read_secret(api: Api) -> object:
    return api.request("GET", "secret/data/app").json()["data"]["data"]


@pytest.mark.parametrize("workers", [1, 2])
def test_shamir_to_hsm_unseal_keys_become_recovery_keys(tmp_path: Path, workers: int) -> None:
    token = make_token(tmp_path / "hsm")
    with running(server(tmp_path, token, "", workers)) as node:
        api = Api(node.address)
        answer = api.request("PUT", "sys/init", json={"secret_shares": 3, "secret_threshold": 2}).json()
        keys, api.token = answer["keys"], answer["root_token"]
        for key in keys[:2]:
            api.request("PUT", "sys/unseal", json={"key": key})
        write_secret(api)
    migrating = server(tmp_path, token, token.seal_block(), workers)
    with running(migrating):
        api = Api(migrating.address, api.token)
        assert api.request("GET", "sys/health").status_code == 503
        status = api.request("GET", "sys/seal-status").json()
        assert (status["migration"], status["type"], status["recovery_seal"], status["t"], status["n"]) == (
            True, "shamir", False, 2, 3)
        refused = api.request("PUT", "sys/unseal", json={"key": keys[0]})
        assert refused.status_code == 400
        assert "migrate option not provided and seal migration is pending" in refused.text
        assert api.request("PUT", "sys/unseal", json={"key": keys[0], "migrate": True}).json()["progress"] == 1
        done = api.request("PUT", "sys/unseal", json={"key": keys[2], "migrate": True}).json()
        assert (done["sealed"], done["migration"], done["type"], done["recovery_seal"]) == (
            False, False, "pkcs11", True)
        assert read_secret(api) == SECRET
    with running(migrating):  # the same configuration now simply auto-unseals
        assert api.request("GET", "sys/health").status_code == 200
        assert read_secret(api) == SECRET
        assert api.request("PUT", "sys/seal").status_code == 204
        api.request("PUT", "sys/unseal", json={"key": keys[1]})
        assert api.request("PUT", "sys/unseal", json={"key": keys[2]}).json()["sealed"] is False
    log = migrating.log_text()
    assert "seal migration from shamir to pkcs11 committed" in log
    assert all(key not in log for key in keys)


def test_hsm_to_shamir_with_hvac_recovery_keys_become_unseal_keys(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    with running(server(tmp_path, token, token.seal_block(), 2)) as node:
        answer = hvac.Client(url=node.address).sys.initialize(recovery_shares=3, recovery_threshold=2)
        recovery, root = answer["recovery_keys_base64"], answer["root_token"]
        write_secret(Api(node.address, root))
    with running(server(tmp_path, token, disabled(token.seal_block()), 2)) as node:
        client = hvac.Client(url=node.address)
        status = client.sys.read_seal_status()
        assert (status["migration"], status["type"], status["recovery_seal"], status["sealed"]) == (
            True, "pkcs11", True, True)
        client.sys.submit_unseal_key(recovery[0], migrate=True)
        done = client.sys.submit_unseal_key(recovery[1], migrate=True)
        assert (done["sealed"], done["type"], done["recovery_seal"]) == (False, "shamir", False)
        assert read_secret(Api(node.address, root)) == SECRET
    with running(server(tmp_path, token, "", 2)) as node:  # no seal block at all: shamir
        client = hvac.Client(url=node.address)
        assert client.sys.read_seal_status()["sealed"] is True
        assert client.sys.submit_unseal_keys(recovery[1:])["sealed"] is False
        assert read_secret(Api(node.address, root)) == SECRET


def test_cli_unseal_migrate(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    with running(server(tmp_path, token, "", 1)) as node:
        answer = Api(node.address).request("PUT", "sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
        key, root = answer["keys_base64"][0], answer["root_token"]
    with running(server(tmp_path, token, token.seal_block(), 1)) as node:
        cli = Cli({**base_env(tmp_path), "VAULT_ADDR": node.address})
        without = cli("operator", "unseal", key)
        assert without.exit_code != 0
        assert "migrate option not provided" in without.output
        result = cli("operator", "unseal", "-migrate", "-format=json", key)
        assert result.exit_code == 0, result.output
        status = json.loads(result.output)
        assert (status["sealed"], status["type"]) == (False, "pkcs11")
        assert Api(node.address, root).request("GET", "auth/token/lookup-self").status_code == 200


def test_a_store_sealed_by_the_hsm_with_a_shamir_config_and_no_old_block_stays_sealed(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    with running(server(tmp_path, token, token.seal_block(), 1)) as node:
        recovery = Api(node.address).request(
            "PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1}).json()["recovery_keys"]
    with running(server(tmp_path, token, "", 1)) as node:
        refused = Api(node.address).request("PUT", "sys/unseal", json={"key": recovery[0], "migrate": True})
        assert refused.status_code == 400
        assert 'keep the old seal in the configuration with disabled = \\"true\\"' in refused.text
        assert Api(node.address).request("GET", "sys/seal-status").json()["sealed"] is True


def test_transit_to_hsm_keeps_the_recovery_keys(tmp_path: Path, server_a: ServerProcess) -> None:
    token = make_token(tmp_path / "hsm")
    b = server_b(tmp_path, server_a, workers=2)
    with running(b):
        answer = Api(b.address).request("PUT", "sys/init", json={"recovery_shares": 3, "recovery_threshold": 2}).json()
        recovery, root = answer["recovery_keys"], answer["root_token"]
        write_secret(Api(b.address, root))
    both = token.seal_block() + disabled(transit_block(server_a))
    migrating = server_b(tmp_path, server_a, workers=2, seal=both)
    migrating.env.update(token.env)
    with running(migrating) as node:
        api = Api(node.address, root)
        status = api.request("GET", "sys/seal-status").json()
        assert (status["migration"], status["type"], status["sealed"]) == (True, "transit", True)
        api.request("PUT", "sys/unseal", json={"key": recovery[2], "migrate": True})
        done = api.request("PUT", "sys/unseal", json={"key": recovery[0], "migrate": True}).json()
        assert (done["sealed"], done["type"], done["recovery_seal"]) == (False, "pkcs11", True)
        assert read_secret(api) == SECRET
    server_a.stop()  # the old seal's server is no longer needed
    only_hsm = server_b(tmp_path, server_a, workers=2, seal=token.seal_block())
    only_hsm.env.update(token.env)
    with running(only_hsm):
        api = Api(only_hsm.address, root)
        assert read_secret(api) == SECRET
        assert api.request("PUT", "sys/seal").status_code == 204
        api.request("PUT", "sys/unseal", json={"key": recovery[1]})
        assert api.request("PUT", "sys/unseal", json={"key": recovery[2]}).json()["sealed"] is False
