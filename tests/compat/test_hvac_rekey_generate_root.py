"""hvac's generate-root and rekey API against a real SQLite server with two workers.

Progress is the node's: shares are submitted through connections pinned to
different workers and still add up, because workers forward every call to the
supervisor, which owns the seal. Rekey is checked across a restart: the old
shares no longer unseal the store and the new ones do.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import hvac.exceptions
import pytest
import requests
from tests.compat.hvac_support import client, pinned_client, worker_pids
from tests.support.server import ServerProcess, running, sqlite_server_process

WORKERS = 2


@dataclass
class Node:
    server: ServerProcess
    keys: list[str]
    root_token: str
    workers: list[int]

    def on(self, worker: int, token: str | None = None) -> hvac.Client:
        return pinned_client(self.server, self.workers, worker, token)

    def unseal(self, keys: list[str]) -> None:
        anonymous = client(self.server.address)
        anonymous.sys.submit_unseal_key(reset=True)
        assert anonymous.sys.submit_unseal_keys(keys)["sealed"] is False


def start_node(tmp: Path, shares: int = 5, threshold: int = 3) -> Iterator[Node]:
    with running(sqlite_server_process(tmp, workers=WORKERS)) as server:
        answer = client(server.address).sys.initialize(secret_shares=shares, secret_threshold=threshold)
        node = Node(server, answer["keys"], answer["root_token"], worker_pids(server, WORKERS))
        node.unseal(node.keys[:threshold])
        yield node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    yield from start_node(tmp_path_factory.mktemp("ceremonies"))


def delete_with_nonce(hv: hvac.Client, path: str, nonce: str) -> requests.Response:
    """A cancel that names its attempt (hvac's own cancel helpers send no body)."""
    answer: requests.Response = hv.adapter.delete(f"/v1/{path}", json={"nonce": nonce})
    return answer


def decode(encoded: str, otp: str) -> str:
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return bytes(a ^ b for a, b in zip(raw, otp.encode(), strict=True)).decode()


def test_generate_root_with_shares_through_both_workers_gives_a_working_root_token(node: Node) -> None:
    first, second = node.workers
    on_first, on_second = node.on(first), node.on(second)
    idle = on_second.sys.read_root_generation_progress()
    assert (idle["started"], idle["required"], idle["otp_length"]) == (False, 3, 36)

    started = on_first.sys.start_root_token_generation()
    nonce, otp = started["nonce"], started["otp"]
    assert started["started"] is True
    assert len(otp) == started["otp_length"] == 36
    progress = on_second.sys.read_root_generation_progress()
    assert (progress["started"], progress["nonce"], progress["otp"]) == (True, nonce, "")

    assert on_second.sys.generate_root(node.keys[3], nonce)["progress"] == 1
    assert on_first.sys.generate_root(node.keys[0], nonce)["progress"] == 2
    done = on_second.sys.generate_root(node.keys[4], nonce)
    assert done["complete"] is True
    token = decode(done["encoded_token"], otp)
    assert token.startswith("hvs.")
    assert token != node.root_token

    for worker in node.workers:
        looked_up = node.on(worker, token).auth.token.lookup_self()["data"]
        assert looked_up["policies"] == ["root"]
        assert looked_up["expire_time"] is None
    assert on_first.sys.read_root_generation_progress()["started"] is False


def test_generate_root_refuses_wrong_nonce_duplicate_and_wrong_shares(node: Node) -> None:
    anonymous = client(node.server.address)
    nonce = anonymous.sys.start_root_token_generation()["nonce"]
    try:
        with pytest.raises(hvac.exceptions.InvalidRequest, match="incorrect nonce"):
            anonymous.sys.generate_root(node.keys[0], "d6b4a5b6-0000-4000-8000-000000000000")
        anonymous.sys.generate_root(node.keys[0], nonce)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="already been provided"):
            anonymous.sys.generate_root(node.keys[0], nonce)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="hex or base64"):
            anonymous.sys.generate_root("not-a-share", nonce)
        # Well-formed (32 y-bytes and an x-coordinate) but not a share of this node's key.
        anonymous.sys.generate_root(bytes(32).hex() + "07", nonce)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="do not reconstruct"):
            anonymous.sys.generate_root(node.keys[1], nonce)
        progress = anonymous.sys.read_root_generation_progress()
        assert (progress["started"], progress["progress"], progress["nonce"]) == (True, 0, nonce)
    finally:
        assert delete_with_nonce(anonymous, "sys/generate-root/attempt", nonce).status_code == 204


def test_generate_root_start_refuses_bad_otp_pgp_and_a_second_attempt(node: Node) -> None:
    anonymous = client(node.server.address)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="OTP string is wrong length"):
        anonymous.sys.start_root_token_generation(otp="tooshort")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="pgp_key is not supported"):
        anonymous.sys.start_root_token_generation(pgp_key="bm90IGEga2V5")
    own_otp = "A1" * 18
    started = anonymous.sys.start_root_token_generation(otp=own_otp)
    assert started["otp"] == ""
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already in progress"):
        anonymous.sys.start_root_token_generation()
    # A blind cancel (hvac sends no nonce) cannot end the attempt; one naming it can.
    with pytest.raises(hvac.exceptions.InvalidRequest, match="missing nonce"):
        anonymous.sys.cancel_root_generation()
    assert anonymous.sys.read_root_generation_progress()["started"] is True
    with pytest.raises(hvac.exceptions.InvalidRequest, match="incorrect nonce"):
        delete_with_nonce(anonymous, "sys/generate-root/attempt", "wrong")
    assert delete_with_nonce(anonymous, "sys/generate-root/attempt", started["nonce"]).status_code == 204
    assert anonymous.sys.read_root_generation_progress()["started"] is False
    anonymous.sys.cancel_root_generation()  # nothing running: a no-op, as in Vault


def test_rekey_status_start_validation_and_cancel_need_the_nonce(node: Node) -> None:
    anonymous = client(node.server.address)
    idle = anonymous.sys.read_rekey_progress()
    assert (idle["started"], idle["required"], idle["t"], idle["n"]) == (False, 3, 0, 0)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid seal configuration"):
        anonymous.sys.start_rekey(secret_shares=2, secret_threshold=3)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="pgp_keys is not supported"):
        anonymous.sys.start_rekey(secret_shares=1, secret_threshold=1, pgp_keys=["a2V5"])
    with pytest.raises(hvac.exceptions.InvalidRequest, match="backup is not supported"):
        # hvac sends `backup` only together with PGP keys, so send it directly.
        anonymous.adapter.put("/v1/sys/rekey/init", json={"secret_shares": 1, "secret_threshold": 1, "backup": True})
    started = anonymous.sys.start_rekey(secret_shares=3, secret_threshold=2)
    assert (started["started"], started["n"], started["t"], started["required"]) == (True, 3, 2, 3)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="rekey already in progress"):
        anonymous.sys.start_rekey()
    with pytest.raises(hvac.exceptions.InvalidRequest, match="incorrect nonce"):
        anonymous.sys.rekey(node.keys[0], nonce="wrong")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="missing nonce"):
        anonymous.sys.cancel_rekey()
    assert delete_with_nonce(anonymous, "sys/rekey/init", started["nonce"]).status_code == 204
    assert anonymous.sys.read_rekey_progress()["started"] is False


def test_rekey_and_generate_root_answer_503_while_sealed(tmp_path: Path) -> None:
    for node in start_node(tmp_path, 3, 2):
        root = client(node.server.address, node.root_token)
        root.sys.seal()
        with pytest.raises(hvac.exceptions.VaultDown, match="Vault is sealed"):
            root.sys.read_rekey_progress()
        with pytest.raises(hvac.exceptions.VaultDown, match="Vault is sealed"):
            root.sys.start_root_token_generation()


def test_rekey_through_both_workers_retires_the_old_shares_across_a_restart(tmp_path: Path) -> None:
    for node in start_node(tmp_path, 5, 3):
        first, second = node.workers
        root = client(node.server.address, node.root_token)
        nonce = node.on(first).sys.start_rekey(secret_shares=4, secret_threshold=2)["nonce"]
        assert node.on(second).sys.rekey(node.keys[2], nonce=nonce)["progress"] == 1
        assert node.on(first).sys.read_rekey_progress()["progress"] == 1
        with pytest.raises(hvac.exceptions.InvalidRequest, match="already been provided"):
            node.on(first).sys.rekey(node.keys[2], nonce=nonce)
        done = node.on(first).sys.rekey_multi(node.keys[3:5], nonce=nonce)
        assert done["complete"] is True
        new_keys = done["keys"]
        assert len(new_keys) == len(done["keys_base64"]) == 4
        assert [base64.b64decode(k).hex() for k in done["keys_base64"]] == new_keys
        status = root.sys.read_seal_status()
        assert (status["sealed"], status["n"], status["t"]) == (False, 4, 2)
        assert root.auth.token.lookup_self()["data"]["policies"] == ["root"]

        # kill -9 right after the answer: the new wrap was durable before the keys were handed out.
        node.server.kill9()
        node.server.start()
        anonymous = client(node.server.address)
        assert anonymous.sys.is_sealed() is True
        # The stored configuration is the new one (threshold 2), so two old shares are a full, wrong quorum.
        assert anonymous.sys.submit_unseal_key(node.keys[0])["t"] == 2
        with pytest.raises(hvac.exceptions.InvalidRequest, match="unable to unseal"):
            anonymous.sys.submit_unseal_key(node.keys[1])
        assert anonymous.sys.is_sealed() is True
        anonymous.sys.submit_unseal_key(reset=True)
        assert anonymous.sys.submit_unseal_keys(new_keys[1:3])["sealed"] is False
        # Same root key and keyring: the old root token still works.
        assert client(node.server.address, node.root_token).auth.token.lookup_self()["data"]["policies"] == ["root"]


def test_no_share_otp_or_token_reaches_the_server_log(tmp_path: Path) -> None:
    for node in start_node(tmp_path, 3, 2):
        anonymous = client(node.server.address)
        started = anonymous.sys.start_root_token_generation()
        anonymous.sys.generate_root(node.keys[0], started["nonce"])
        done = anonymous.sys.generate_root(node.keys[1], started["nonce"])
        token = decode(done["encoded_token"], started["otp"])
        nonce = anonymous.sys.start_rekey(secret_shares=3, secret_threshold=2)["nonce"]
        with pytest.raises(hvac.exceptions.InvalidRequest):
            anonymous.sys.rekey(node.keys[0], nonce="wrong")
        new_keys = anonymous.sys.rekey_multi(node.keys[1:3], nonce=nonce)["keys_base64"]
        log = node.server.log_text()
        assert "rekey complete" in log  # the log is being written, at debug level
        secrets = [*node.keys, *new_keys, started["otp"], token, done["encoded_token"]]
        secrets += [base64.b64decode(key).hex() for key in new_keys]
        assert [secret for secret in secrets if secret in log] == []


def test_rekey_with_verification_commits_only_after_the_new_keys_come_back(tmp_path: Path) -> None:
    for node in start_node(tmp_path, 3, 2):
        first, second = node.workers
        started = node.on(first).sys.start_rekey(secret_shares=3, secret_threshold=2, require_verification=True)
        assert started["verification_required"] is True
        handed_out = node.on(second).sys.rekey_multi(node.keys[:2], nonce=started["nonce"])
        assert (handed_out["complete"], handed_out["verification_required"]) == (True, True)
        new_keys, verify_nonce = handed_out["keys"], handed_out["verification_nonce"]

        progress = node.on(first).sys.read_rekey_verify_progress()
        assert (progress["nonce"], progress["progress"], progress["t"], progress["n"]) == (verify_nonce, 0, 2, 3)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="missing nonce"):
            node.on(first).sys.cancel_rekey_verify()  # hvac sends no nonce: a blind restart is refused
        assert node.on(second).sys.rekey_verify(new_keys[2], verify_nonce)["progress"] == 1
        done = node.on(first).sys.rekey_verify(new_keys[0], verify_nonce)
        assert done["complete"] is True

        node.server.kill9()
        node.server.start()
        anonymous = client(node.server.address)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="unable to unseal"):
            anonymous.sys.submit_unseal_keys(node.keys[:2])
        anonymous.sys.submit_unseal_key(reset=True)
        assert anonymous.sys.submit_unseal_keys(new_keys[1:])["sealed"] is False
