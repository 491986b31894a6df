"""Expected failures without a server: one line on stderr, Vault's exit codes, no traceback."""

from __future__ import annotations

import pytest
from tests.cli.cli_harness import Cli


@pytest.mark.parametrize(
    "args",
    [
        ("kv", "get", "secret/foo"),
        ("read", "sys/mounts"),
        ("token", "lookup"),
        ("operator", "seal"),
        ("secrets", "list", "-format=json"),
    ],
)
def test_connection_refused_is_one_line_and_exit_2(offline_cli: Cli, args: tuple[str, ...]) -> None:
    result = offline_cli(*args)

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot connect to http://127.0.0.1:" in lines[0]
    assert lines[0].startswith("Error ")


def test_status_reports_an_unreachable_server_with_exit_1(offline_cli: Cli) -> None:
    result = offline_cli("status")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error checking seal status: cannot connect to")


def test_usage_errors_exit_1_with_usage_text(offline_cli: Cli) -> None:
    result = offline_cli("kv", "get")

    assert result.exit_code == 1
    assert "Missing argument 'PATH'" in result.stderr


def test_unknown_flag_exits_1(offline_cli: Cli) -> None:
    result = offline_cli("kv", "get", "-bogus=1", "secret/x")

    assert result.exit_code == 1
    assert "No such option" in result.stderr


def test_unknown_command_exits_1(offline_cli: Cli) -> None:
    result = offline_cli("frobnicate")

    assert result.exit_code == 1
    assert "No such command" in result.stderr


def test_invalid_address_is_a_local_error(offline_cli: Cli) -> None:
    result = offline_cli("kv", "get", "-address=vault:8200", "secret/x")

    assert result.exit_code == 1
    assert (
        result.stderr.strip() == 'Error: invalid address "vault:8200": expected http://host:port or https://host:port'
    )


def test_missing_ca_file_is_a_local_error(offline_cli: Cli) -> None:
    result = offline_cli("status", "-address=https://127.0.0.1:1", "-ca-cert=/nonexistent/ca.pem")

    assert result.exit_code == 1
    assert "cannot load CA certificate /nonexistent/ca.pem" in result.stderr


def test_kv_put_without_data_fails_before_any_request(offline_cli: Cli) -> None:
    result = offline_cli("kv", "put", "secret/x")

    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no data given: kv put PATH key=value ..."


def test_help_and_version_exit_0(offline_cli: Cli) -> None:
    assert offline_cli("-help").exit_code == 0
    assert offline_cli("kv", "put", "-h").exit_code == 0
    version = offline_cli("-version")
    assert version.exit_code == 0
    assert version.stdout.startswith("Strongroom v")


def test_skip_verify_warns_on_stderr(offline_cli: Cli) -> None:
    result = offline_cli("read", "sys/mounts", "-address=https://127.0.0.1:1", env={"VAULT_SKIP_VERIFY": "1"})

    assert "WARNING: TLS certificate verification is disabled" in result.stderr
