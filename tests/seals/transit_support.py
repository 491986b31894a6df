"""Two real servers for the transit seal's tests: A (dev, with a transit key) protects B (SQLite).

Import ``server_a`` into a test module to use it as a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.process_harness import Api
from tests.support.server import ROOT_TOKEN, ServerProcess, dev_server_process, running, sqlite_server_process

KEY_NAME = "autounseal"


@pytest.fixture
def server_a(tmp_path: Path) -> Iterator[ServerProcess]:
    """A dev server with a transit mount and an AES key for B's seal."""
    (tmp_path / "a").mkdir()
    server = dev_server_process(tmp_path / "a")
    with running(server):
        api = Api(server.address, ROOT_TOKEN)
        assert api.request("POST", "sys/mounts/transit", json={"type": "transit"}).status_code == 204
        created = api.request("POST", f"transit/keys/{KEY_NAME}", json={})
        assert created.status_code in (200, 204), created.text
        yield server


def transit_block(a: ServerProcess, key_name: str = KEY_NAME) -> str:
    return f'seal "transit" {{\n  address = "{a.address}"\n  key_name = "{key_name}"\n}}\n'


def server_b(
    tmp_path: Path, a: ServerProcess, key_name: str = KEY_NAME, workers: int = 1, seal: str | None = None
) -> ServerProcess:
    """B over ``tmp_path/b``, sealed by A's key (or configured with the ``seal`` blocks given)."""
    (tmp_path / "b").mkdir(parents=True, exist_ok=True)
    block = transit_block(a, key_name) if seal is None else seal
    server = sqlite_server_process(tmp_path / "b", workers=workers, extra=block)
    # The token comes from the environment, so it never sits in the config file.
    server.env["STRONGROOM_TRANSIT_SEAL_TOKEN"] = ROOT_TOKEN
    return server
