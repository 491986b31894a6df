"""Run the ``strongroom`` CLI in-process with click's CliRunner, with a clean environment."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result

from strongroom.cli.main import cli

_CLEARED = (
    "ADDR",
    "TOKEN",
    "CACERT",
    "SKIP_VERIFY",
    "NAMESPACE",
    "FORMAT",
    "CLIENT_CERT",
    "CLIENT_KEY",
    "DEV_ROOT_TOKEN_ID",
    "DEV_LISTEN_ADDRESS",
)


@dataclass
class Cli:
    """``cli("kv", "get", "secret/x")`` runs the command and returns click's Result.

    Exceptions are not caught: an unexpected traceback fails the test, which
    is how the suite checks that expected failures never print one.
    """

    env: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, env={**self.env, **(env or {})}, catch_exceptions=False)


def base_env(tmp_path: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {f"{prefix}{name}": None for prefix in ("VAULT_", "STRONGROOM_") for name in _CLEARED}
    env["STRONGROOM_TOKEN_FILE"] = str(tmp_path / "helper" / "token")
    return env


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
