"""``strongroom kv rotate`` and ``kv rotation put|get|delete`` against a real dev server."""

from __future__ import annotations

import json
import uuid

import pytest
from tests.cli.cli_harness import Cli


@pytest.fixture
def name() -> str:
    return f"rot-{uuid.uuid4().hex[:10]}"


def test_put_get_rotate_and_delete_a_rotation_policy(server_cli: Cli, name: str) -> None:
    assert server_cli("kv", "put", f"secret/{name}", "user=app", "token=initial").exit_code == 0
    put = server_cli("kv", "rotation", "put", "--interval=24h", "--generator=random", "--bytes=8",
                     "--encoding=hex", "--key=token", f"secret/{name}")
    assert put.exit_code == 0, put.stderr
    assert put.stdout.strip() == f"Success! Data written to: secret/rotation/{name}"

    rotated = server_cli("kv", "rotate", f"secret/{name}")
    assert rotated.exit_code == 0, rotated.stderr
    assert f"secret/rotate/{name}" in rotated.stdout
    assert "version            2" in rotated.stdout
    token = server_cli("kv", "get", "-field=token", f"secret/{name}").stdout
    assert len(token) == 16
    assert token != "initial"
    assert server_cli("kv", "get", "-field=user", f"secret/{name}").stdout == "app"

    got = server_cli("kv", "rotation", "get", f"secret/{name}")
    assert got.exit_code == 0, got.stderr
    assert "====== Policy ======" in got.stdout
    assert "generator               random" in got.stdout
    assert "====== History ======" in got.stdout
    assert "manual     success    2" in got.stdout
    as_json = json.loads(server_cli("kv", "rotation", "get", "-format=json", f"secret/{name}").stdout)
    assert as_json["data"]["interval"] == 86400
    assert [h["version"] for h in as_json["data"]["history"]] == [2]

    deleted = server_cli("kv", "rotation", "delete", f"secret/{name}")
    assert deleted.exit_code == 0
    missing = server_cli("kv", "rotation", "get", f"secret/{name}")
    assert missing.exit_code == 2
    assert f"No rotation policy at secret/rotation/{name}" in missing.stderr
    assert server_cli("kv", "get", "-field=token", f"secret/{name}").stdout == token  # the secret stays


def test_the_mount_flag_and_a_cron_schedule(server_cli: Cli, name: str) -> None:
    put = server_cli("kv", "rotation", "put", "-mount=secret", "-cron=0 3 * * 1", "-generator=keypair", name)
    assert put.exit_code == 0, put.stderr
    body = json.loads(server_cli("kv", "rotation", "get", "-format=json", "-mount=secret", name).stdout)["data"]
    assert (body["cron"], body["key_type"]) == ("0 3 * * 1", "ed25519")
    assert server_cli("kv", "rotate", "-mount=secret", name).exit_code == 0
    assert server_cli("kv", "get", "-field=value", f"secret/{name}").stdout.startswith("-----BEGIN PRIVATE KEY")


def test_refusals_are_clear_errors(server_cli: Cli, name: str) -> None:
    bad = server_cli("kv", "rotation", "put", "--cron=every day", "--generator=random", f"secret/{name}")
    assert bad.exit_code == 2
    assert "invalid cron schedule" in bad.stderr
    assert "Traceback" not in bad.stderr
    no_policy = server_cli("kv", "rotate", f"secret/{name}")
    assert no_policy.exit_code == 2
    assert "no rotation policy is set for this secret" in no_policy.stderr
    mount = f"{name}-v1"
    assert server_cli("secrets", "enable", f"-path={mount}", "kv").exit_code == 0
    try:
        v1 = server_cli("kv", "rotate", f"{mount}/x")
        assert v1.exit_code != 0
        assert "only version 2 secrets rotate" in v1.stderr
    finally:
        server_cli("secrets", "disable", mount)
