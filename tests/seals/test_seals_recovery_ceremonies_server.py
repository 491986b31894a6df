"""Recovery-key ceremonies against a real two-worker node under the pkcs11 seal (SoftHSM2): hvac and the CLI.

hvac drives ``sys/rekey-recovery-key`` (``recovery_key=True``), generate-root
with recovery keys and ``sys/rekey`` of the stored key; the CLI runs
``operator rekey -target=recovery`` and ``operator generate-root`` with
recovery keys. Each new set of keys is checked the way it is used: a quorum of
recovery keys unseals the node after ``sys/seal``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import hvac.exceptions
import pytest

from tests.cli.cli_harness import Cli, base_env
from tests.integration.process_harness import Api
from tests.seals.softhsm import make_token
from tests.support.server import ServerProcess, running, sqlite_server_process


@dataclass
class Node:
    server: ServerProcess
    recovery: list[str]
    root: str

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.server.address, token=token)

    def recovery_unseals(self, keys: list[str]) -> bool:
        """Seal the node, then whether ``keys`` unseal it (if not, it is unsealed again with ``self.recovery``)."""
        api = Api(self.server.address, self.root)
        assert api.request("PUT", "sys/seal").status_code == 204
        unsealed = False
        for key in keys:
            response = api.request("PUT", "sys/unseal", json={"key": key})
            if response.status_code != 200:
                break
            unsealed = response.json()["sealed"] is False
        if not unsealed:
            api.request("PUT", "sys/unseal", json={"reset": True})
            for good in self.recovery:
                if api.request("PUT", "sys/unseal", json={"key": good}).json()["sealed"] is False:
                    break
        return unsealed


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    token = make_token(tmp_path / "hsm")
    server = sqlite_server_process(tmp_path, workers=2, extra=token.seal_block())
    server.env.update(token.env)
    with running(server):
        answer = hvac.Client(url=server.address).sys.initialize(recovery_shares=3, recovery_threshold=2)
        yield Node(server, answer["recovery_keys_base64"], answer["root_token"])


def decode(encoded: str, otp: str) -> str:
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return bytes(a ^ b for a, b in zip(raw, otp.encode(), strict=True)).decode()


def test_hvac_rekeys_the_recovery_keys_and_generates_a_root_token_with_them(node: Node) -> None:
    anonymous = node.client()
    idle = anonymous.sys.read_rekey_progress(recovery_key=True)
    assert (idle["started"], idle["required"]) == (False, 2)
    started = anonymous.sys.start_rekey(secret_shares=4, secret_threshold=3, recovery_key=True)
    nonce = started["nonce"]
    assert (started["t"], started["n"], started["required"]) == (3, 4, 2)
    assert anonymous.sys.rekey(node.recovery[0], nonce, recovery_key=True)["progress"] == 1
    done = anonymous.sys.rekey(node.recovery[2], nonce, recovery_key=True)
    assert done["complete"] is True
    new = done["keys_base64"]
    assert len(new) == 4
    status = anonymous.sys.read_seal_status()
    assert (status["t"], status["n"]) == (3, 4)
    old, node.recovery = node.recovery, new
    assert not node.recovery_unseals(old[:2])
    assert node.recovery_unseals(new[1:])

    attempt = anonymous.sys.start_root_token_generation()
    assert attempt["required"] == 3
    for key in new[:3]:
        answer = anonymous.sys.generate_root(key, attempt["nonce"])
    assert answer["complete"] is True
    token = decode(answer["encoded_token"], attempt["otp"])
    assert node.client(token).auth.token.lookup_self()["data"]["policies"] == ["root"]


def test_hvac_rekey_recovery_key_with_verification_through_the_api(node: Node) -> None:
    anonymous = node.client()
    nonce = anonymous.sys.start_rekey(secret_shares=3, secret_threshold=2, require_verification=True,
                                      recovery_key=True)["nonce"]
    anonymous.sys.rekey(node.recovery[1], nonce, recovery_key=True)
    handed = anonymous.sys.rekey(node.recovery[2], nonce, recovery_key=True)
    assert handed["verification_required"] is True
    new, verify_nonce = handed["keys_base64"], handed["verification_nonce"]
    # hvac's rekey_verify has no recovery_key switch: the verify step goes through the adapter.
    path = "/v1/sys/rekey-recovery-key/verify"
    assert anonymous.adapter.get(path)["nonce"] == verify_nonce
    anonymous.adapter.put(path, json={"key": new[0], "nonce": verify_nonce})
    assert anonymous.adapter.put(path, json={"key": new[2], "nonce": verify_nonce})["complete"] is True
    old, node.recovery = node.recovery, new
    assert node.recovery_unseals(new[:2])
    assert not node.recovery_unseals(old[:2])


def test_hvac_rekey_under_the_hsm_rekeys_the_stored_key_and_hands_out_nothing(node: Node) -> None:
    anonymous = node.client()
    started = anonymous.sys.start_rekey()  # hvac's defaults (5/3) are forced to the one stored share
    assert (started["t"], started["n"], started["required"]) == (1, 1, 2)
    anonymous.sys.rekey(node.recovery[0], started["nonce"])
    done = anonymous.sys.rekey(node.recovery[1], started["nonce"])
    assert (done["complete"], done["keys"]) == (True, [])
    assert node.recovery_unseals(node.recovery[1:])  # recovery keys unchanged; the HSM opens the new key
    with pytest.raises(hvac.exceptions.InvalidRequest, match="requiring verification not supported"):
        anonymous.sys.start_rekey(secret_shares=1, secret_threshold=1, require_verification=True)


def test_a_rekey_restart_keeps_working(node: Node, tmp_path: Path) -> None:
    anonymous = node.client()
    nonce = anonymous.sys.start_rekey(secret_shares=2, secret_threshold=2, recovery_key=True)["nonce"]
    anonymous.sys.rekey(node.recovery[0], nonce, recovery_key=True)
    new = anonymous.sys.rekey(node.recovery[1], nonce, recovery_key=True)["keys_base64"]
    node.server.stop()
    node.server.start()
    node.recovery = new
    assert Api(node.server.address).request("GET", "sys/seal-status").json()["sealed"] is False
    assert node.recovery_unseals(new)


def test_cli_rekey_target_recovery_and_generate_root_with_recovery_keys(node: Node, tmp_path: Path) -> None:
    cli = Cli({**base_env(tmp_path), "VAULT_ADDR": node.server.address})
    started = cli("operator", "rekey", "-init", "-target=recovery", "-key-shares=3", "-key-threshold=2",
                  "-format=json")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["required"] == 2
    first = cli("operator", "rekey", "-target=recovery", node.recovery[0])
    assert first.exit_code == 0, first.output
    last = cli("operator", "rekey", "-target=recovery", "-format=json", input=node.recovery[1] + "\n")
    assert last.exit_code == 0, last.output
    new = json.loads(last.stdout.split("\n", 1)[1])["keys_base64"]
    assert len(new) == 3
    old, node.recovery = node.recovery, new
    assert not node.recovery_unseals(old[:2])
    assert node.recovery_unseals(new[:2])

    attempt = json.loads(cli("operator", "generate-root", "-init", "-format=json").stdout)
    cli("operator", "generate-root", f"-nonce={attempt['nonce']}", new[2])
    done = cli("operator", "generate-root", f"-nonce={attempt['nonce']}", "-format=json", new[0])
    assert done.exit_code == 0, done.output
    encoded = json.loads(done.stdout)["encoded_token"]
    token = cli("operator", "generate-root", f"-decode={encoded}", f"-otp={attempt['otp']}").stdout.strip()
    assert node.client(token).auth.token.lookup_self()["data"]["policies"] == ["root"]
