"""Vault-style flags: one dash or two, booleans with =true/=false, values left alone."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from strongroom.cli.flags import VaultCommand, VaultGroup, normalize_args

LONG = frozenset({"format", "orphan", "renewable", "no-renewable", "key-shares", "help"})
FLAGS = frozenset({"orphan", "renewable", "no-renewable"})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-format=json"], ["--format=json"]),
        (["--format=json"], ["--format=json"]),
        (["-format", "yaml"], ["--format", "yaml"]),
        (["-key-shares=3"], ["--key-shares=3"]),
        (["-orphan"], ["--orphan"]),
        (["-orphan=true"], ["--orphan"]),
        (["-orphan=false"], []),
        (["-renewable=false"], ["--no-renewable"]),
        (["--renewable=TRUE"], ["--renewable"]),
        (["-"], ["-"]),
        (["-i"], ["-i"]),
        (["k=-x", "-unknown=1"], ["k=-x", "-unknown=1"]),
        (["--", "-format=json"], ["--", "-format=json"]),
        (["secret/foo", "-format=json"], ["secret/foo", "--format=json"]),
    ],
)
def test_single_dash_long_flags_are_rewritten_only_for_known_names(args: list[str], expected: list[str]) -> None:
    assert normalize_args(args, LONG, FLAGS) == expected


def _probe_group() -> click.Group:
    @click.group(cls=VaultGroup)
    def root() -> None:
        pass

    @root.command("probe", cls=VaultCommand)
    @click.option("--format", "output_format", default="table")
    @click.option("--orphan", is_flag=True)
    @click.argument("values", nargs=-1)
    def probe(output_format: str, orphan: bool, values: tuple[str, ...]) -> None:
        click.echo(f"{output_format} {orphan} {' '.join(values)}")

    return root


@pytest.mark.parametrize(
    "args",
    [
        ["probe", "-format=json", "-orphan", "a=1", "-"],
        ["probe", "--format=json", "--orphan", "a=1", "-"],
        ["probe", "a=1", "-format", "json", "-orphan=true", "-"],
    ],
)
def test_commands_accept_both_spellings(args: list[str]) -> None:
    result = CliRunner().invoke(_probe_group(), args)

    assert result.exit_code == 0, result.output
    assert result.output == "json True a=1 -\n"


def test_dash_help_shows_help() -> None:
    result = CliRunner().invoke(_probe_group(), ["probe", "-help"])

    assert result.exit_code == 0
    assert "Usage:" in result.output
