"""Auto-unseal through another real server's transit key: server A (dev) protects server B (SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from strongroom.core.seal import SEALED_UNSEAL_KEY_KEY
from tests.integration.process_harness import Api, enable_kv2
from tests.seals.transit_support import server_a, server_b
from tests.support.server import ROOT_TOKEN, ServerProcess, running

__all__ = ["server_a"]

def init_b(api: Api) -> dict[str, object]:
    response = api.request("PUT", "sys/init", json={"recovery_shares": 3, "recovery_threshold": 2})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("workers", [1, 2])
def test_init_returns_recovery_keys_and_a_restart_unseals_through_the_other_server(
    tmp_path: Path, server_a: ServerProcess, workers: int
) -> None:
    b = server_b(tmp_path, server_a, workers=workers)
    with running(b):
        api = Api(b.address)
        before = api.request("GET", "sys/seal-status").json()
        assert (before["type"], before["recovery_seal"], before["initialized"]) == ("transit", True, False)
        body = init_b(api)
        assert body["keys"] == []
        assert len(body["recovery_keys"]) == 3  # type: ignore[arg-type]
        api.token = str(body["root_token"])
        enable_kv2(api)
        assert api.request("POST", "secret/data/app", json={"data": {"password": "hunter2"}}).status_code == 200
    stored = sqlite3.connect(tmp_path / "b" / "strongroom.db")
    with stored:
        (blob,) = stored.execute("SELECT value FROM entries WHERE key = ?", (SEALED_UNSEAL_KEY_KEY,)).fetchone()
    stored.close()
    assert bytes(blob).startswith(b"SRT\x01vault:v1:")
    with running(b):
        api = Api(b.address, str(body["root_token"]))
        assert api.request("GET", "sys/seal-status").json()["sealed"] is False
        assert api.request("GET", "secret/data/app").json()["data"]["data"] == {"password": "hunter2"}
        # After a manual seal, a quorum of recovery keys authorises the unseal; A's key does the decrypting.
        assert api.request("PUT", "sys/seal").status_code == 204
        keys = body["recovery_keys"]
        assert isinstance(keys, list)
        assert api.request("PUT", "sys/unseal", json={"key": keys[0]}).json()["sealed"] is True
        assert api.request("PUT", "sys/unseal", json={"key": keys[2]}).json()["sealed"] is False
        assert api.request("GET", "secret/data/app").status_code == 200
    assert ROOT_TOKEN not in b.log_text()
    assert ROOT_TOKEN.encode() not in (tmp_path / "b" / "strongroom.db").read_bytes()


def test_with_the_transit_server_stopped_the_restarted_server_stays_sealed_and_says_why(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    b = server_b(tmp_path, server_a)
    with running(b):
        init_b(Api(b.address))
    server_a.stop()
    with running(b):
        api = Api(b.address)
        assert api.request("GET", "sys/health").status_code == 503
        assert api.request("GET", "sys/seal-status").json()["sealed"] is True
    log = b.log_text()
    assert f"auto-unseal failed, the node stays sealed: transit seal: {server_a.address}: cannot reach" in log
    assert ROOT_TOKEN not in log


def test_a_tampered_blob_keeps_the_restarted_server_sealed_with_an_opaque_error(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    b = server_b(tmp_path, server_a)
    with running(b):
        init_b(Api(b.address))
    with sqlite3.connect(tmp_path / "b" / "strongroom.db") as db:
        (blob,) = db.execute("SELECT value FROM entries WHERE key = ?", (SEALED_UNSEAL_KEY_KEY,)).fetchone()
        text = bytearray(blob)
        # Swap one base64 character of the transit ciphertext for another (still valid base64).
        text[-6] = ord("A") if text[-6] != ord("A") else ord("B")
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (bytes(text), SEALED_UNSEAL_KEY_KEY))
    with running(b):
        assert Api(b.address).request("GET", "sys/health").status_code == 503
    assert "auto-unseal failed, the node stays sealed: failed to decrypt an entry" in b.log_text()


def test_a_token_the_transit_server_refuses_leaves_the_server_uninitialised_and_says_why(
    tmp_path: Path, server_a: ServerProcess
) -> None:
    b = server_b(tmp_path, server_a)
    b.env["STRONGROOM_TRANSIT_SEAL_TOKEN"] = "not-a-valid-token-canary"
    with running(b):
        api = Api(b.address)
        assert api.request("GET", "sys/seal-status").json()["initialized"] is False
        refused = api.request("PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
        assert refused.status_code == 500
    log = b.log_text()
    assert f"transit seal: {server_a.address}: permission denied" in log
    assert "not-a-valid-token-canary" not in log
