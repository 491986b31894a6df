"""``operator generate-root`` and ``operator rekey`` against a real two-worker SQLite server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.cli.cli_harness import Cli, base_env
from tests.support.server import ServerProcess, running, sqlite_server_process


@dataclass
class Node:
    server: ServerProcess
    keys: list[str]
    root_token: str


def unseal(address: str, keys: list[str]) -> bool:
    """Whether submitting ``keys`` in turn unseals the server (a refused key answers False)."""
    sealed = True
    for key in keys:
        answer = httpx.put(f"{address}/v1/sys/unseal", json={"key": key})
        if answer.status_code != 200:
            return False
        sealed = answer.json()["sealed"]
    return not sealed


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(sqlite_server_process(tmp_path_factory.mktemp("operator-keys"), workers=2)) as server:
        answer = httpx.put(f"{server.address}/v1/sys/init", json={"secret_shares": 3, "secret_threshold": 2}).json()
        assert unseal(server.address, answer["keys"][:2])
        yield Node(server, answer["keys"], answer["root_token"])


@pytest.fixture
def op_cli(node: Node, tmp_path: Path) -> Cli:
    env = base_env(tmp_path)
    env["STRONGROOM_ADDR"] = node.server.address
    return Cli(env)


def test_generate_root_from_init_to_a_decoded_token_that_works(node: Node, op_cli: Cli) -> None:
    started = op_cli("operator", "generate-root", "-init", "-format=json")
    assert started.exit_code == 0, started.stderr
    attempt = json.loads(started.stdout)
    otp, nonce = attempt["otp"], attempt["nonce"]
    assert len(otp) == 36

    status = op_cli("operator", "generate-root", "-status")
    assert "Progress      0/2" in status.stdout
    assert otp not in status.stdout

    first = op_cli("operator", "generate-root", f"-nonce={nonce}", node.keys[2])
    assert first.exit_code == 0, first.stderr
    assert "Progress      1/2" in first.stdout
    # Without -nonce the CLI reads it from the status; the key comes from stdin, never echoed.
    last = op_cli("operator", "generate-root", "-format=json", input=node.keys[0] + "\n")
    assert last.exit_code == 0, last.stderr
    assert node.keys[0] not in last.stdout + last.stderr
    encoded = json.loads(last.stdout.split("\n", 1)[1])["encoded_token"]

    decoded = op_cli("operator", "generate-root", f"-decode={encoded}", f"-otp={otp}")
    assert decoded.exit_code == 0, decoded.stderr
    token = decoded.stdout.strip()
    assert token.startswith("hvs.")
    lookup = httpx.get(f"{node.server.address}/v1/auth/token/lookup-self", headers={"X-Vault-Token": token})
    assert lookup.json()["data"]["policies"] == ["root"]

    wrong = op_cli("operator", "generate-root", f"-decode={encoded}", "-otp=short")
    assert wrong.exit_code != 0
    assert "length" in wrong.stderr


def test_cancel_needs_a_nonce_and_generate_otp_needs_no_server(node: Node, op_cli: Cli) -> None:
    nonce = json.loads(op_cli("operator", "generate-root", "-init", "-format=json").stdout)["nonce"]
    refused = op_cli("operator", "generate-root", "-cancel")
    assert refused.exit_code != 0
    assert "-nonce" in refused.stderr
    wrong = op_cli("operator", "generate-root", "-cancel", "-nonce=wrong")
    assert "incorrect nonce" in wrong.stderr
    assert op_cli("operator", "generate-root", "-cancel", f"-nonce={nonce}").exit_code == 0
    assert json.loads(op_cli("operator", "generate-root", "-status", "-format=json").stdout)["started"] is False
    otp = op_cli("operator", "generate-root", "-generate-otp").stdout.strip()
    assert len(otp) == 36
    assert otp.isalnum()


def test_rekey_prints_new_keys_that_replace_the_old_ones(node: Node, op_cli: Cli) -> None:
    started = op_cli("operator", "rekey", "-init", "-key-shares=4", "-key-threshold=3", "-format=json")
    assert started.exit_code == 0, started.stderr
    nonce = json.loads(started.stdout)["nonce"]
    assert "Rekey Progress           0/2" in op_cli("operator", "rekey", "-status").stdout
    assert op_cli("operator", "rekey", f"-nonce={nonce}", node.keys[0]).exit_code == 0
    done = op_cli("operator", "rekey", f"-nonce={nonce}", node.keys[1])
    assert done.exit_code == 0, done.stderr
    assert "Key 4: " in done.stdout
    assert "old unseal keys no longer work" in done.stdout
    new_keys = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("Key ")]
    assert len(new_keys) == 4

    root = {"X-Vault-Token": node.root_token}
    assert httpx.put(f"{node.server.address}/v1/sys/seal", headers=root).status_code == 204
    assert not unseal(node.server.address, node.keys[:3])  # the new threshold's worth of old keys: refused
    httpx.put(f"{node.server.address}/v1/sys/unseal", json={"reset": True})
    assert unseal(node.server.address, new_keys[1:4])
    node.keys[:] = new_keys


def test_rekey_with_verify_keeps_the_old_keys_until_the_new_ones_come_back(node: Node, op_cli: Cli) -> None:
    started = op_cli("operator", "rekey", "-init", "-verify", "-key-shares=2", "-key-threshold=2", "-format=json")
    assert started.exit_code == 0, started.stderr
    assert json.loads(started.stdout)["verification_required"] is True
    for key in node.keys:  # as many as the current threshold asks for (another test may have changed it)
        handed_out = op_cli("operator", "rekey", key)
        assert handed_out.exit_code == 0, handed_out.stderr
        if "Key 1: " in handed_out.stdout:
            break
    assert "NOT yet in use" in handed_out.stdout
    new_keys = [line.split(": ", 1)[1] for line in handed_out.stdout.splitlines() if line.startswith("Key ")]
    status = op_cli("operator", "rekey", "-verify", "-status", "-format=json")
    verify_nonce = json.loads(status.stdout)["nonce"]
    assert op_cli("operator", "rekey", "-verify", "-cancel").exit_code != 0  # needs -nonce
    first = op_cli("operator", "rekey", "-verify", f"-nonce={verify_nonce}", new_keys[1])
    assert "Verification Progress    1/2" in first.stdout
    done = op_cli("operator", "rekey", "-verify", input=new_keys[0] + "\n")
    assert done.exit_code == 0, done.stderr
    assert "Rekey verified" in done.stdout

    root = {"X-Vault-Token": node.root_token}
    assert httpx.put(f"{node.server.address}/v1/sys/seal", headers=root).status_code == 204
    assert not unseal(node.server.address, node.keys[:3])
    httpx.put(f"{node.server.address}/v1/sys/unseal", json={"reset": True})
    assert unseal(node.server.address, new_keys)
    node.keys[:] = new_keys
