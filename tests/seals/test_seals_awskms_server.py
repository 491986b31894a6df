"""Auto-unseal through moto's KMS emulator (real HTTP on 127.0.0.1) with real Strongroom server processes."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import hvac
import pytest

from strongroom.core.seal import RECOVERY_KEY_KEY, ROOT_KEY_KEY, SEALED_UNSEAL_KEY_KEY, decode_share
from strongroom.crypto import rootkey, shamir
from strongroom.seals.awskms import ENCRYPTION_CONTEXT
from tests.integration.process_harness import Api, enable_kv2
from tests.seals.kms_emulator import REGION, SECRET_KEY, KmsEmulator, server_env
from tests.support.server import ServerProcess, running, sqlite_server_process

SECRET = {"password": "hunter2-kms-canary"}
STALLED = "auto-unseal failed, the node stays sealed: "


def kms_server(tmp_path: Path, kms: KmsEmulator, key_id: str, workers: int = 1, **env: str) -> ServerProcess:
    block = f'seal "awskms" {{\n  region = "{REGION}"\n  kms_key_id = "{key_id}"\n  endpoint = "{kms.endpoint}"\n}}\n'
    server = sqlite_server_process(tmp_path, workers=workers, extra=block)
    # Credentials come from the standard AWS variables, so they never sit in the config file.
    server.env.update(server_env(**env))
    return server


def init(api: Api) -> dict[str, Any]:
    response = api.request("PUT", "sys/init", json={"recovery_shares": 3, "recovery_threshold": 2})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["keys"] == []
    assert len(body["recovery_keys"]) == 3
    return body


def write_secret(api: Api, token: str) -> None:
    api.token = token
    enable_kv2(api)
    assert api.request("POST", "secret/data/app", json={"data": SECRET}).status_code == 200


def read_secret(api: Api) -> Any:
    response = api.request("GET", "secret/data/app")
    assert response.status_code == 200, response.text
    return response.json()["data"]["data"]


def unseal_with_recovery_keys(api: Api, keys: list[str]) -> None:
    assert api.request("PUT", "sys/unseal", json={"key": keys[0]}).json()["sealed"] is True
    answer = api.request("PUT", "sys/unseal", json={"key": keys[2]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["sealed"] is False


def initialised(tmp_path: Path, kms: KmsEmulator, with_secret: bool = False) -> tuple[ServerProcess, dict[str, Any],
                                                                                   dict[str, Any]]:
    """A fresh KMS key and a server initialised under it (stopped again): (server, init answer, key metadata)."""
    key = kms.create_key()
    server = kms_server(tmp_path, kms, key["KeyId"])
    with running(server):
        api = Api(server.address)
        body = init(api)
        if with_secret:
            write_secret(api, body["root_token"])
    return server, body, key


def quorum_refused(api: Api, keys: list[str]) -> str:
    """Give a quorum of recovery keys to a node whose seal cannot decrypt: 500, still sealed; the answer text."""
    api.request("PUT", "sys/unseal", json={"key": keys[0]})
    refused = api.request("PUT", "sys/unseal", json={"key": keys[1]})
    assert refused.status_code == 500
    assert api.request("GET", "sys/seal-status").json()["sealed"] is True
    return refused.text


def stored(tmp_path: Path, key: str) -> bytes:
    with sqlite3.connect(tmp_path / "strongroom.db") as db:
        (value,) = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
    db.close()
    return bytes(value)


@pytest.mark.parametrize("workers", [1, 2])
def test_init_returns_recovery_keys_and_a_restart_unseals_through_kms(
    tmp_path: Path, kms: KmsEmulator, workers: int
) -> None:
    key = kms.create_key()
    server = kms_server(tmp_path, kms, key["KeyId"], workers)
    with running(server):
        api = Api(server.address)
        client = hvac.Client(url=server.address)
        before = client.sys.read_seal_status()
        assert (before["type"], before["recovery_seal"], before["initialized"]) == ("awskms", True, False)
        body = init(api)
        status = client.sys.read_seal_status()
        assert (status["type"], status["recovery_seal"], status["sealed"], status["t"], status["n"]) == \
            ("awskms", True, False, 2, 3)
        write_secret(api, body["root_token"])
    arn = key["Arn"].encode()
    assert stored(tmp_path, SEALED_UNSEAL_KEY_KEY).startswith(b"SRA\x01" + len(arn).to_bytes(2, "big") + arn)
    with running(server):
        api = Api(server.address, body["root_token"])
        assert api.request("GET", "sys/seal-status").json()["sealed"] is False  # no share typed in
        assert read_secret(api) == SECRET
        # After a manual seal a quorum of recovery keys authorises the unseal; KMS does the decrypting.
        assert api.request("PUT", "sys/seal").status_code == 204
        assert api.request("GET", "secret/data/app").status_code == 503
        unseal_with_recovery_keys(api, body["recovery_keys"])
        assert read_secret(api) == SECRET
    assert SECRET_KEY not in server.log_text()
    assert SECRET_KEY.encode() not in (tmp_path / "strongroom.db").read_bytes()


def test_kms_sees_only_the_unseal_and_recovery_keys_never_the_root_key(tmp_path: Path, kms: KmsEmulator) -> None:
    key = kms.create_key()
    server = kms_server(tmp_path, kms, key["KeyId"])
    kms.start_recording()
    try:
        with running(server):
            api = Api(server.address)
            body = init(api)
            write_secret(api, body["root_token"])
        with running(server):
            assert read_secret(Api(server.address, body["root_token"])) == SECRET
    finally:
        requests = kms.stop_recording()
    calls = [(entry["headers"].get("X-Amz-Target", ""), json.loads(entry["body"] or "{}")) for entry in requests]
    encrypted = [base64.b64decode(call["Plaintext"]) for target, call in calls if target == "TrentService.Encrypt"]
    assert any(target == "TrentService.Decrypt" for target, _ in calls)
    for target, call in calls:
        if target in ("TrentService.Encrypt", "TrentService.Decrypt"):
            assert call["EncryptionContext"] == ENCRYPTION_CONTEXT
    # What KMS was given to encrypt: the startup probe, the unseal key and the recovery key, nothing else.
    unseal_key = next(p for p in encrypted if len(p) == 32 and
                      _unwraps(p, stored(tmp_path, ROOT_KEY_KEY)))
    recovery_key = shamir.combine([decode_share(k) for k in body["recovery_keys"][:2]])
    assert sorted(encrypted) == sorted([b"startup probe", unseal_key, recovery_key])
    root_key = rootkey.unwrap_root_key(unseal_key, stored(tmp_path, ROOT_KEY_KEY))
    everything = "\n".join(json.dumps(entry) for entry in requests)
    state = kms.stored_state()
    assert key["KeyId"] in state  # the dump does cover the KMS keys
    for form in (base64.b64encode(root_key).decode(), root_key.hex(), repr(root_key)[2:-1], SECRET["password"],
                 SECRET_KEY):
        assert form not in everything
        assert form not in state
    # moto keeps no plaintext it was given: neither the unseal key nor the recovery key is in its state.
    for given in (unseal_key, recovery_key):
        for form in (base64.b64encode(given).decode(), given.hex(), repr(given)[2:-1]):
            assert form not in state
    # And the store keeps no key in the clear: the blobs hold KMS ciphertext only.
    for path in (SEALED_UNSEAL_KEY_KEY, RECOVERY_KEY_KEY):
        assert unseal_key not in stored(tmp_path, path)
        assert recovery_key not in stored(tmp_path, path)
    assert base64.b64encode(unseal_key).decode() not in server.log_text()


def _unwraps(candidate: bytes, wrapped_root: bytes) -> bool:
    try:
        rootkey.unwrap_root_key(candidate, wrapped_root)
    except Exception:
        return False
    return True


def test_a_disabled_key_keeps_the_restarted_server_sealed_until_it_is_enabled(
    tmp_path: Path, kms: KmsEmulator
) -> None:
    server, body, key = initialised(tmp_path, kms)
    kms.client().disable_key(KeyId=key["KeyId"])
    with running(server):
        api = Api(server.address, body["root_token"])
        assert api.request("GET", "sys/health").status_code == 503
        assert f"{STALLED}awskms seal: the KMS key {key['Arn']!r} cannot be used: its state is Disabled" \
            in server.log_text()
        assert "its state is Disabled" in quorum_refused(api, body["recovery_keys"])
        kms.client().enable_key(KeyId=key["KeyId"])
        unseal_with_recovery_keys(api, body["recovery_keys"])
        assert api.request("GET", "sys/health").status_code == 200


def test_with_kms_down_at_start_the_server_stays_sealed_then_unseals_once_it_is_back(
    tmp_path: Path, kms: KmsEmulator
) -> None:
    server, body, _ = initialised(tmp_path, kms, with_secret=True)
    kms.stop()
    try:
        with running(server):
            api = Api(server.address, body["root_token"])
            assert api.request("GET", "sys/health").status_code == 503
            assert api.request("GET", "sys/seal-status").json()["sealed"] is True
            assert f"{STALLED}awskms seal: cannot reach {kms.endpoint} (EndpointConnectionError)" \
                in server.log_text()
            assert "cannot reach" in quorum_refused(api, body["recovery_keys"])
            kms.start()
            unseal_with_recovery_keys(api, body["recovery_keys"])  # no restart needed
            assert read_secret(api) == SECRET
    finally:
        kms.start()
    with running(server):
        assert read_secret(Api(server.address, body["root_token"])) == SECRET


def test_a_tampered_wrapped_key_keeps_the_restarted_server_sealed_with_an_opaque_error(
    tmp_path: Path, kms: KmsEmulator
) -> None:
    server, body, _ = initialised(tmp_path, kms)
    blob = bytearray(stored(tmp_path, SEALED_UNSEAL_KEY_KEY))
    blob[-3] ^= 0x01
    with sqlite3.connect(tmp_path / "strongroom.db") as db:
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (bytes(blob), SEALED_UNSEAL_KEY_KEY))
    db.close()
    with running(server):
        api = Api(server.address, body["root_token"])
        assert api.request("GET", "sys/health").status_code == 503
        assert f"{STALLED}failed to decrypt an entry" in server.log_text()
        quorum_refused(api, body["recovery_keys"])


def test_after_rotation_and_a_moved_alias_the_server_still_unseals(tmp_path: Path, kms: KmsEmulator) -> None:
    client = kms.client()
    first, second = kms.create_key(), kms.create_key()
    alias = f"alias/strongroom-{first['KeyId'][:8]}"
    client.create_alias(AliasName=alias, TargetKeyId=first["KeyId"])
    # Key id and endpoint from Vault's environment variables; the file's values are overridden.
    server = kms_server(tmp_path, kms, "alias/overridden", VAULT_AWSKMS_SEAL_KEY_ID=alias,
                       AWS_KMS_ENDPOINT=kms.endpoint)
    with running(server):
        api = Api(server.address)
        body = init(api)
        write_secret(api, body["root_token"])
    client.rotate_key_on_demand(KeyId=first["KeyId"])
    client.update_alias(AliasName=alias, TargetKeyId=second["KeyId"])
    with running(server):
        api = Api(server.address, body["root_token"])
        assert api.request("GET", "sys/seal-status").json()["sealed"] is False
        assert read_secret(api) == SECRET
    assert first["Arn"].encode() in stored(tmp_path, SEALED_UNSEAL_KEY_KEY)


@pytest.mark.parametrize(
    ("key_id", "auth", "reason"),
    [
        ("alias/no-such-key", False, "awskms seal: the KMS key 'alias/no-such-key' does not exist (NotFoundException)"),
        ("", True, "awskms seal: AWS rejected the credentials (InvalidClientTokenId)"),
    ],
)
def test_a_bad_key_or_rejected_credentials_leave_the_server_up_uninitialised_and_say_why(
    tmp_path: Path, kms: KmsEmulator, key_id: str, auth: bool, reason: str
) -> None:
    server = kms_server(tmp_path, kms, key_id or kms.create_key()["KeyId"])
    kms.set_auth(auth)
    try:
        with running(server):
            api = Api(server.address)
            assert api.request("GET", "sys/health").status_code == 501
            assert reason in server.log_text()
            refused = api.request("PUT", "sys/init", json={"recovery_shares": 1, "recovery_threshold": 1})
            assert refused.status_code == 500
            assert api.request("GET", "sys/seal-status").json()["initialized"] is False
    finally:
        kms.set_auth(False)
    assert SECRET_KEY not in server.log_text()
