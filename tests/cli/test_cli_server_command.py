"""``strongroom server``: flag checks, config errors, and the call into the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.cli.cli_harness import Cli

import strongroom.server.main as server_main
from strongroom.config import ServerConfig


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []

    def fake_run_server(config: ServerConfig | None, **kwargs: Any) -> int:
        recorded.append({"config": config, **kwargs})
        return 0

    monkeypatch.setattr(server_main, "run_server", fake_run_server)
    return recorded


def test_dev_flags_reach_run_server(offline_cli: Cli, calls: list[dict[str, Any]]) -> None:
    result = offline_cli("server", "-dev", "-dev-root-token-id=abc", "-dev-listen-address=127.0.0.1:9999")

    assert result.exit_code == 0, result.output
    assert calls == [{"config": None, "dev": True, "dev_root_token": "abc", "dev_listen_address": "127.0.0.1:9999"}]


def test_dev_defaults_and_vault_dev_variables(offline_cli: Cli, calls: list[dict[str, Any]]) -> None:
    offline_cli("server", "--dev")
    offline_cli("server", "-dev", env={"VAULT_DEV_ROOT_TOKEN_ID": "t", "VAULT_DEV_LISTEN_ADDRESS": "0.0.0.0:1"})

    assert [(c["dev_root_token"], c["dev_listen_address"]) for c in calls] == [
        (None, "127.0.0.1:8200"),
        ("t", "0.0.0.0:1"),
    ]


def test_config_file_is_loaded_and_passed(offline_cli: Cli, calls: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "s.hcl"
    path.write_text('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n}\nworkers = 2\n')

    result = offline_cli("server", "-config", str(path))

    assert result.exit_code == 0, result.output
    (call,) = calls
    assert isinstance(call["config"], ServerConfig)
    assert call["config"].workers == 2
    assert call["dev"] is False


def test_config_errors_print_file_line_and_key(offline_cli: Cli, calls: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "bad.hcl"
    path.write_text('storage "inmem" {}\nlistener "tcp" {\n  tls_disable = true\n  adress = "x"\n}\n')

    result = offline_cli("server", f"-config={path}")

    assert result.exit_code == 1
    assert result.stderr.strip() == f'Error: {path}:4: listener "tcp": unknown key "adress"'
    assert calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "a configuration file is required"),
        (("-dev", "-config=x.hcl"), "-dev and -config cannot be combined"),
        (("-config=a.hcl", "-config=b.hcl"), "only one -config file is supported"),
        (("-config=x.hcl", "-dev-root-token-id=x"), "need -dev"),
    ],
)
def test_inconsistent_flags_are_local_errors(
    offline_cli: Cli, calls: list[dict[str, Any]], args: tuple[str, ...], message: str
) -> None:
    result = offline_cli("server", *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert calls == []


def test_exit_code_of_run_server_is_the_commands(offline_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_main, "run_server", lambda config, **kwargs: 3)

    assert offline_cli("server", "-dev").exit_code == 3
