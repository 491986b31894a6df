"""``strongroom login -method=userpass|approle`` against a real dev server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from tests.cli.cli_harness import Cli

NO_ENV_TOKEN = {"STRONGROOM_TOKEN": None}


@pytest.fixture
def userpass(server_cli: Cli) -> str:
    """A userpass mount with ``bob`` (password ``hunter2-pw``, policy ``dev``)."""
    mount = f"up-{uuid.uuid4().hex[:8]}"
    assert server_cli("write", f"sys/auth/{mount}", "type=userpass").exit_code == 0
    assert server_cli("write", f"auth/{mount}/users/bob", "password=hunter2-pw", "policies=dev").exit_code == 0
    return mount


def test_userpass_login_stores_the_token_and_later_commands_use_it(server_cli: Cli, userpass: str) -> None:
    result = server_cli("login", "-method=userpass", f"-path={userpass}", "username=Bob", "password=hunter2-pw",
                        env=NO_ENV_TOKEN)
    assert result.exit_code == 0, result.stderr
    assert "Success! You are now authenticated." in result.stdout
    assert "token_meta_username" in result.stdout
    assert "hunter2-pw" not in result.stdout + result.stderr
    token = Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).read_text()
    lookup = json.loads(server_cli("token", "lookup", "-format=json", env=NO_ENV_TOKEN).stdout)["data"]
    assert lookup["id"] == token
    assert sorted(lookup["policies"]) == ["default", "dev"]


def test_userpass_password_is_prompted_without_echo(server_cli: Cli, userpass: str) -> None:
    result = server_cli("login", "-method=userpass", f"-path={userpass}", "username=bob", "-no-store",
                        "-field=token", input="hunter2-pw\n", env=NO_ENV_TOKEN)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("hvs.")
    assert "hunter2-pw" not in result.stdout + result.stderr


def test_a_wrong_password_is_a_remote_error_that_stores_nothing(server_cli: Cli, userpass: str) -> None:
    result = server_cli("login", "-method=userpass", f"-path={userpass}", "username=bob", "password=nope",
                        env=NO_ENV_TOKEN)
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error authenticating: invalid username or password (HTTP 400)"
    assert "nope" not in result.stderr
    assert not Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-method=userpass", "password=x"], "username=NAME is required"),
        (["-method=userpass", "username=bob", "password=x", "colour=red"], "unknown argument(s)"),
        (["-method=userpass", "username=bob", "username=ann", "password=x"], "must be given once"),
        (["-method=approle", "secret_id=x"], "role_id=... is required"),
        (["-method=token", "one", "two"], "at most one argument"),
        (["-method=ldap", "username=bob"], "Invalid value for '--method'"),
    ],
)
def test_bad_login_arguments_are_local_errors(server_cli: Cli, args: list[str], message: str) -> None:
    result = server_cli("login", *args, env=NO_ENV_TOKEN)
    assert result.exit_code == 1
    assert message in result.stderr
    assert not Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).exists()


def test_approle_login_with_role_and_secret_id(server_cli: Cli) -> None:
    mount = f"ar-{uuid.uuid4().hex[:8]}"
    assert server_cli("write", f"sys/auth/{mount}", "type=approle").exit_code == 0
    assert server_cli("write", f"auth/{mount}/role/app", "token_policies=dev").exit_code == 0
    role_id = server_cli("read", "-field=role_id", f"auth/{mount}/role/app/role-id").stdout
    secret_id = server_cli("write", "-field=secret_id", f"auth/{mount}/role/app/secret-id").stdout
    assert role_id
    assert secret_id
    result = server_cli("login", "-method=approle", f"-path={mount}", f"role_id={role_id}", "secret_id=-",
                        "-format=json", input=secret_id, env=NO_ENV_TOKEN)
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["auth"]["metadata"] == {"role_name": "app"}
    assert sorted(body["auth"]["policies"]) == ["default", "dev"]
    assert Path(str(server_cli.env["STRONGROOM_TOKEN_FILE"])).read_text() == body["auth"]["client_token"]


def test_token_login_still_accepts_token_equals(server_cli: Cli) -> None:
    token = server_cli("token", "create", "-policy=default", "-field=token").stdout
    result = server_cli("login", "-no-store", f"token={token}", env=NO_ENV_TOKEN)
    assert result.exit_code == 0, result.stderr
