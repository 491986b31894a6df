"""status, secrets, policy, token, login and the generic verbs against a real dev server."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest
from tests.cli.cli_harness import Cli


@pytest.fixture
def name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_status_of_an_unsealed_server_exits_0(server_cli: Cli) -> None:
    result = server_cli("status")

    assert result.exit_code == 0
    assert "Sealed          false" in result.stdout
    assert json.loads(server_cli("status", "-format=json").stdout)["sealed"] is False


def test_secrets_enable_list_tune_disable(server_cli: Cli, name: str) -> None:
    enabled = server_cli("secrets", "enable", f"-path={name}", "-version=2", "-description=team a", "kv")
    assert enabled.stdout.strip() == f"Success! Enabled the kv secrets engine at: {name}/"

    mounts = json.loads(server_cli("secrets", "list", "-format=json").stdout)
    assert mounts[f"{name}/"]["options"]["version"] == "2"
    assert mounts[f"{name}/"]["description"] == "team a"
    table = server_cli("secrets", "list").stdout
    assert table.splitlines()[0].split() == ["Path", "Type", "Accessor", "Description"]
    assert any(line.startswith(f"{name}/") for line in table.splitlines())

    tuned = server_cli("secrets", "tune", "-max-lease-ttl=1h", name)
    assert tuned.stdout.strip() == f"Success! Tuned the secrets engine at: {name}/"
    mounts = json.loads(server_cli("secrets", "list", "-detailed", "-format=json").stdout)
    assert mounts[f"{name}/"]["config"]["max_lease_ttl"] == 3600

    assert server_cli("kv", "put", f"{name}/x", "a=b").exit_code == 0
    disabled = server_cli("secrets", "disable", name)
    assert disabled.stdout.strip() == f"Success! Disabled the secrets engine (if it existed) at: {name}/"
    assert f"{name}/" not in json.loads(server_cli("secrets", "list", "-format=json").stdout)


def test_kv_v2_type_alias_enables_version_2(server_cli: Cli, name: str) -> None:
    server_cli("secrets", "enable", f"-path={name}", "kv-v2")
    try:
        mounts = json.loads(server_cli("secrets", "list", "-format=json").stdout)
        assert mounts[f"{name}/"]["type"] == "kv"
        assert mounts[f"{name}/"]["options"]["version"] == "2"
    finally:
        server_cli("secrets", "disable", name)


def test_policy_write_read_list_delete(server_cli: Cli, name: str, tmp_path: Path) -> None:
    text = 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n'
    (tmp_path / "p.hcl").write_text(text)

    assert server_cli("policy", "write", name, str(tmp_path / "p.hcl")).stdout.strip() == (
        f"Success! Uploaded policy: {name}"
    )
    assert server_cli("policy", "read", name).stdout == text
    assert name in server_cli("policy", "list").stdout.splitlines()
    assert name in json.loads(server_cli("policy", "list", "-format=json").stdout)
    assert server_cli("policy", "delete", name).stdout.strip() == f"Success! Deleted policy: {name}"
    assert name not in server_cli("policy", "list").stdout.splitlines()


def test_policy_write_from_stdin(server_cli: Cli, name: str) -> None:
    result = server_cli("policy", "write", name, "-", input='path "secret/*" { capabilities = ["list"] }\n')

    assert result.exit_code == 0, result.stderr
    assert 'capabilities = ["list"]' in server_cli("policy", "read", name).stdout
    server_cli("policy", "delete", name)


def test_token_create_with_flags_then_lookup_renew_revoke(server_cli: Cli, name: str) -> None:
    created = server_cli(
        "token",
        "create",
        "-policy=default",
        f"-display-name={name}",
        "-ttl=1h",
        "-explicit-max-ttl=2h",
        "-use-limit=10",
        "-metadata=team=a",
        "-format=json",
    )
    assert created.exit_code == 0, created.stderr
    auth = json.loads(created.stdout)["auth"]
    token, accessor = auth["client_token"], auth["accessor"]
    assert auth["metadata"] == {"team": "a"}

    looked_up = json.loads(server_cli("token", "lookup", "-format=json", token).stdout)["data"]
    assert looked_up["display_name"] == f"token-{name}"
    assert looked_up["explicit_max_ttl"] == 7200
    assert looked_up["num_uses"] == 10
    by_accessor = json.loads(server_cli("token", "lookup", "-accessor", "-format=json", accessor).stdout)["data"]
    assert by_accessor["accessor"] == accessor

    renewed = server_cli("token", "renew", "-increment=30m", "-format=json", token)
    assert renewed.exit_code == 0, renewed.stderr
    assert 0 < json.loads(renewed.stdout)["auth"]["lease_duration"] <= 1800

    assert server_cli("token", "revoke", token).stdout.strip() == "Success! Revoked token (if it existed)"
    gone = server_cli("token", "lookup", token)
    assert gone.exit_code == 2
    assert len(gone.stderr.strip().splitlines()) == 1


def test_token_create_field_and_orphan(server_cli: Cli) -> None:
    token = server_cli("token", "create", "-orphan", "-field=token").stdout
    assert token

    data = json.loads(server_cli("token", "lookup", "-format=json", token).stdout)["data"]
    assert data["orphan"] is True
    assert server_cli("token", "revoke", "-mode=orphan", token).exit_code == 0


def test_token_revoke_needs_a_token_or_self(server_cli: Cli) -> None:
    result = server_cli("token", "revoke")

    assert result.exit_code == 1
    assert "exactly one of a token" in result.stderr


def test_login_stores_the_token_0600_and_later_commands_use_it(
    server_cli: Cli, dev_server: tuple[str, str], tmp_path: Path
) -> None:
    token = server_cli("token", "create", "-policy=default", "-field=token").stdout
    token_file = Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"]))
    without_env = {"STRONGROOM_TOKEN": None}

    login = server_cli("login", token, env=without_env)
    assert login.exit_code == 0, login.stderr
    assert "Success! You are now authenticated." in login.stdout
    assert token_file.read_text() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    lookup = json.loads(server_cli("token", "lookup", "-format=json", env=without_env).stdout)["data"]
    assert lookup["id"] == token


def test_login_prompt_does_not_echo_the_token(server_cli: Cli, dev_server: tuple[str, str]) -> None:
    _, root = dev_server

    result = server_cli("login", "-no-store", input=root + "\n", env={"STRONGROOM_TOKEN": None})

    assert result.exit_code == 0, result.stderr
    assert root not in result.stderr
    assert not Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).exists()


def test_login_with_a_bad_token_fails_and_stores_nothing(server_cli: Cli) -> None:
    result = server_cli("login", "not-a-token", env={"STRONGROOM_TOKEN": None})

    assert result.exit_code == 2
    assert result.stderr.strip() == "Error authenticating: permission denied (HTTP 403)"
    assert not Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).exists()


def test_permission_denied_is_one_line_with_exit_2(server_cli: Cli) -> None:
    token = server_cli("token", "create", "-policy=default", "-field=token").stdout

    result = server_cli("read", "sys/mounts", env={"STRONGROOM_TOKEN": token})

    assert result.exit_code == 2
    assert result.stderr.strip() == "Error reading sys/mounts: permission denied (HTTP 403)"
    assert result.stdout == ""


def test_vault_token_variable_is_honoured(server_cli: Cli, dev_server: tuple[str, str]) -> None:
    _, root = dev_server

    result = server_cli("read", "-format=json", "sys/mounts", env={"STRONGROOM_TOKEN": None, "VAULT_TOKEN": root})

    assert result.exit_code == 0


def test_generic_write_read_list_delete(server_cli: Cli, name: str) -> None:
    written = server_cli("write", f"secret/data/{name}", "-", input='{"data": {"k": "v"}}')
    assert written.exit_code == 0, written.stderr

    read = json.loads(server_cli("read", "-format=json", f"secret/data/{name}").stdout)
    assert read["data"]["data"] == {"k": "v"}
    assert name in json.loads(server_cli("list", "-format=json", "secret/metadata").stdout)

    deleted = server_cli("delete", f"secret/metadata/{name}")
    assert deleted.stdout.strip() == f"Success! Data deleted (if it existed) at: secret/metadata/{name}"
    missing = server_cli("read", f"secret/data/{name}")
    assert missing.exit_code == 2


def test_plain_http_server_behind_https_address_gives_a_tls_hint(server_cli: Cli, dev_server: tuple[str, str]) -> None:
    address, _ = dev_server

    result = server_cli("status", f"-address={address.replace('http://', 'https://')}")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error checking seal status: TLS error talking to https://")
    assert "use an http:// address" in result.stderr
