"""``operator init|unseal|seal|rotate|key-status`` and ``status`` exit codes on a real SQLite server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.cli_harness import Cli, base_env
from tests.support.server import ServerProcess, running, sqlite_server_process


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A new, uninitialised single-process server for this module's ordered scenario."""
    with running(sqlite_server_process(tmp_path_factory.mktemp("operator"), workers=1)) as server:
        yield server


@pytest.fixture
def op_cli(fresh_server: ServerProcess, tmp_path: Path) -> Cli:
    env = base_env(tmp_path)
    env["STRONGROOM_ADDR"] = fresh_server.address
    return Cli(env)


def test_operator_lifecycle_from_init_to_seal(op_cli: Cli) -> None:
    status = op_cli("status")
    assert status.exit_code == 2
    assert "Initialized        false" in status.stdout
    assert op_cli("operator", "init", "-status").exit_code == 2

    init = op_cli("operator", "init", "-key-shares=3", "-key-threshold=2", "-format=json")
    assert init.exit_code == 0, init.stderr
    summary = json.loads(init.stdout)
    keys, root = summary["unseal_keys_b64"], summary["root_token"]
    assert (len(keys), summary["unseal_shares"], summary["unseal_threshold"]) == (3, 3, 2)
    assert op_cli("operator", "init", "-status").exit_code == 0

    again = op_cli("operator", "init")
    assert again.exit_code == 2
    assert again.stderr.strip() == "Error initializing: Vault is already initialized (HTTP 400)"

    first = op_cli("operator", "unseal", keys[0])
    assert first.exit_code == 0
    assert "Unseal Progress    1/2" in first.stdout
    assert op_cli("operator", "unseal", "-reset").exit_code == 0
    assert json.loads(op_cli("status", "-format=json").stdout)["progress"] == 0

    op_cli("operator", "unseal", keys[1])
    prompted = op_cli("operator", "unseal", input=keys[2] + "\n")
    assert prompted.exit_code == 0, prompted.stderr
    assert keys[2] not in prompted.stdout + prompted.stderr
    assert "Sealed          false" in prompted.stdout
    assert op_cli("status").exit_code == 0

    authed = {"STRONGROOM_TOKEN": root}
    status_before = json.loads(op_cli("operator", "key-status", "-format=json", env=authed).stdout)
    rotated = op_cli("operator", "rotate", env=authed)
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.stdout.startswith("Success! Rotated key\n\nKey Term ")
    status_after = json.loads(op_cli("operator", "key-status", "-format=json", env=authed).stdout)
    assert status_after["term"] == status_before["term"] + 1
    assert op_cli("operator", "key-status", env=authed).stdout.startswith("Key Term ")

    sealed = op_cli("operator", "seal", env=authed)
    assert sealed.stdout.strip() == "Success! Vault is sealed."
    assert op_cli("status").exit_code == 2

    blocked = op_cli("kv", "get", "secret/x", env=authed)
    assert blocked.exit_code == 2
    assert "Vault is sealed" in blocked.stderr


def test_an_invalid_unseal_key_is_one_line_exit_2(op_cli: Cli) -> None:
    result = op_cli("operator", "unseal", "not-a-key")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error unsealing: ")
    assert len(result.stderr.strip().splitlines()) == 1
