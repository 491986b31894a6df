"""Auto-unseal through a real SoftHSM2 token, with real server processes (single process and supervisor)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import hvac
import pytest

from strongroom.core.seal import SEALED_UNSEAL_KEY_KEY
from tests.integration.process_harness import Api, enable_kv2
from tests.seals.softhsm import PIN, Token, make_token
from tests.support.server import ServerProcess, running, sqlite_server_process


def hsm_server(tmp_path: Path, token: Token, workers: int = 2, **block: object) -> ServerProcess:
    server = sqlite_server_process(tmp_path, workers=workers, extra=token.seal_block(**block))  # type: ignore[arg-type]
    server.env.update(token.env)
    return server


def init_with_recovery(api: Api) -> dict[str, object]:
    response = api.request("PUT", "sys/init", json={"recovery_shares": 3, "recovery_threshold": 2})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def write_secret(api: Api, token: str) -> None:
    api.token = token
    enable_kv2(api)
    response = api.request("POST", "secret/data/app", json={"data": {"password": "hunter2"}})
    assert response.status_code == 200, response.text


def read_secret(api: Api) -> httpx.Response:
    return api.request("GET", "secret/data/app")


@pytest.mark.parametrize("workers", [1, 2])
def test_init_returns_recovery_keys_and_a_restart_unseals_without_any_share(tmp_path: Path, workers: int) -> None:
    token = make_token(tmp_path / "hsm")
    server = hsm_server(tmp_path, token, workers)
    with running(server):
        api = Api(server.address)
        before = api.request("GET", "sys/seal-status").json()
        assert (before["type"], before["recovery_seal"], before["initialized"]) == ("pkcs11", True, False)
        body = init_with_recovery(api)
        assert body["keys"] == []
        assert len(body["recovery_keys"]) == 3  # type: ignore[arg-type]
        assert api.request("GET", "sys/seal-status").json()["sealed"] is False
        write_secret(api, str(body["root_token"]))
    with running(server):
        api = Api(server.address, str(body["root_token"]))
        status = api.request("GET", "sys/seal-status").json()
        assert (status["sealed"], status["t"], status["n"]) == (False, 2, 3)
        assert read_secret(api).json()["data"]["data"] == {"password": "hunter2"}
    assert PIN not in server.log_text()
    assert PIN.encode() not in (tmp_path / "strongroom.db").read_bytes()


def test_hvac_inits_with_recovery_keys_and_unseals_with_them_after_sys_seal(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    server = hsm_server(tmp_path, token)
    with running(server):
        client = hvac.Client(url=server.address)
        body = client.sys.initialize(recovery_shares=3, recovery_threshold=2)  # hvac sends secret_* as null
        assert body["keys"] == []
        keys = body["recovery_keys_base64"]
        assert len(keys) == 3
        status = client.sys.read_seal_status()
        assert (status["type"], status["recovery_seal"], status["sealed"]) == ("pkcs11", True, False)
        api = Api(server.address)
        write_secret(api, str(body["root_token"]))
        client.token = body["root_token"]
        client.sys.seal()
        assert read_secret(api).status_code == 503
        first = client.sys.submit_unseal_key(keys[0])
        assert (first["sealed"], first["progress"]) == (True, 1)
        assert client.sys.submit_unseal_key(keys[2])["sealed"] is False
        assert read_secret(api).json()["data"]["data"] == {"password": "hunter2"}


def test_a_flipped_bit_in_the_stored_wrapped_key_keeps_the_restarted_server_sealed(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    server = hsm_server(tmp_path, token, workers=1)
    with running(server):
        body = init_with_recovery(Api(server.address))
    with sqlite3.connect(tmp_path / "strongroom.db") as db:
        (blob,) = db.execute("SELECT value FROM entries WHERE key = ?", (SEALED_UNSEAL_KEY_KEY,)).fetchone()
        flipped = bytearray(blob)
        flipped[-5] ^= 0x01
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (bytes(flipped), SEALED_UNSEAL_KEY_KEY))
    with running(server):
        api = Api(server.address, str(body["root_token"]))
        assert api.request("GET", "sys/health").status_code == 503
        assert "auto-unseal failed, the node stays sealed: failed to decrypt an entry" in server.log_text()
        keys = body["recovery_keys"]
        assert isinstance(keys, list)
        api.request("PUT", "sys/unseal", json={"key": keys[0]})
        refused = api.request("PUT", "sys/unseal", json={"key": keys[1]})
        assert refused.status_code == 500
        assert api.request("GET", "sys/seal-status").json()["sealed"] is True


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        ({"pin": "0000-wrong-pin"}, "login failed: the PIN is incorrect"),
        ({"token_label": "absent-token"}, "no token labelled 'absent-token'"),
        ({"by_slot": True, "slot": 4242}, "no token in slot 4242"),
        ({"key_label": "absent-key"}, "no AES key labelled 'absent-key'"),
    ],
)
def test_a_bad_hsm_setting_leaves_the_server_up_and_says_why(
    tmp_path: Path, block: dict[str, object], reason: str
) -> None:
    token = make_token(tmp_path / "hsm")
    server = hsm_server(tmp_path, token, workers=1, **block)
    with running(server):
        api = Api(server.address)
        assert api.request("GET", "sys/health").status_code == 501
        assert reason in server.log_text()
        assert api.request("PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1}).status_code == 500
        assert api.request("GET", "sys/seal-status").json()["initialized"] is False
    assert "0000-wrong-pin" not in server.log_text()


def test_an_hsm_that_disappears_while_unsealed_is_only_needed_again_to_unseal(tmp_path: Path) -> None:
    token = make_token(tmp_path / "hsm")
    server = hsm_server(tmp_path, token)
    with running(server):
        api = Api(server.address)
        body = init_with_recovery(api)
        keys = body["recovery_keys"]
        assert isinstance(keys, list)
        write_secret(api, str(body["root_token"]))
        token.hide()
        assert read_secret(api).json()["data"]["data"] == {"password": "hunter2"}  # served from memory
        assert api.request("PUT", "sys/seal").status_code == 204
        api.request("PUT", "sys/unseal", json={"key": keys[0]})
        refused = api.request("PUT", "sys/unseal", json={"key": keys[1]})
        assert refused.status_code == 500
        assert "pkcs11 seal" in refused.text
        assert api.request("GET", "sys/seal-status").json()["sealed"] is True
        token.restore()  # back again: recovery keys unseal through it, no restart needed
        api.request("PUT", "sys/unseal", json={"key": keys[0]})
        assert api.request("PUT", "sys/unseal", json={"key": keys[1]}).json()["sealed"] is False
        assert read_secret(api).json()["data"]["data"] == {"password": "hunter2"}
    token.hide()
    with running(server):
        api = Api(server.address, str(body["root_token"]))
        assert api.request("GET", "sys/health").status_code == 503
        # With its token directory gone SoftHSM2 cannot even initialise: the log says so.
        assert "auto-unseal failed, the node stays sealed: pkcs11 seal: cannot load or initialise" in server.log_text()


def test_cli_init_under_the_hsm_asks_for_and_prints_recovery_keys(tmp_path: Path) -> None:
    import json

    from tests.cli.cli_harness import Cli, base_env

    token = make_token(tmp_path / "hsm")
    with running(hsm_server(tmp_path, token, workers=1)) as server:
        cli = Cli({**base_env(tmp_path), "VAULT_ADDR": server.address})
        result = cli("operator", "init", "-key-shares=3", "-key-threshold=2", "-format=json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert len(summary["recovery_keys_b64"]) == 3
        assert (summary["recovery_keys_shares"], summary["recovery_keys_threshold"]) == (3, 2)
        assert summary["unseal_keys_b64"] == []
        assert summary["root_token"]
        text = cli("operator", "init", "-status")
        assert text.exit_code == 0
