"""Fixtures for CLI tests: the CLI pointed at nothing, or at the session's dev server."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.cli_harness import Cli, base_env, closed_port


@pytest.fixture
def offline_cli(tmp_path: Path) -> Cli:
    """The CLI pointed at a loopback port where nothing listens."""
    env = base_env(tmp_path)
    env["STRONGROOM_ADDR"] = f"http://127.0.0.1:{closed_port()}"
    return Cli(env)


@pytest.fixture
def server_cli(dev_server: tuple[str, str], tmp_path: Path) -> Cli:
    """The CLI pointed at the session's dev server, authenticated with its root token."""
    address, root_token = dev_server
    env = base_env(tmp_path)
    env["STRONGROOM_ADDR"] = address
    env["STRONGROOM_TOKEN"] = root_token
    return Cli(env)
