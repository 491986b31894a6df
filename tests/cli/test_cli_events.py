"""``strongroom events subscribe`` as a real process against the session's dev server."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from tests.cli.cli_harness import Cli, base_env

CANARY = "canary-cli-5a1e"


def test_events_subscribe_prints_one_json_line_per_event(
    dev_server: tuple[str, str], server_cli: Cli, tmp_path: Path
) -> None:
    address, root_token = dev_server
    prefix = f"secret/data/cli-{uuid.uuid4().hex[:8]}/"
    env = {key: value for key, value in {**os.environ, **base_env(tmp_path)}.items() if value is not None}
    env.update(STRONGROOM_ADDR=address, STRONGROOM_TOKEN=root_token)
    argv = [sys.executable, "-m", "strongroom", "events", "subscribe", f"-path-prefix={prefix}", "-timeout=120s",
            "kv-v2/data-write"]
    line = b""
    errors = b""
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        try:
            with httpx.Client(base_url=address, headers={"X-Vault-Token": root_token}) as client:
                # The subscription opens some time after the process starts: write until an event shows.
                for n in range(200):
                    client.post(f"/v1/secret/data/elsewhere-{n}", json={"data": {"v": CANARY}})
                    written = client.post(f"/v1/{prefix}app", json={"data": {"v": CANARY}})
                    assert written.status_code == 200, written.text
                    if selector.select(timeout=0.5):
                        line = process.stdout.readline()
                        break
        finally:
            selector.close()
            process.terminate()
            _, errors = process.communicate(timeout=10)
    assert line, errors.decode()
    assert CANARY.encode() not in line
    event = json.loads(line)
    assert event["data"]["event_type"] == "kv-v2/data-write"
    assert event["data"]["event"]["metadata"]["data_path"] == f"{prefix}app"


def test_events_subscribe_refusal_is_an_error(server_cli: Cli) -> None:
    denied = server_cli("events", "subscribe", "-timeout=5s", "*", env={"STRONGROOM_TOKEN": "hvs.not-a-token"})
    assert denied.exit_code == 2
    assert "permission denied" in denied.stderr
    bad = server_cli("events", "subscribe", "-timeout=5s", "-filter=a ~ b", "*")
    assert bad.exit_code == 2
    assert "invalid event filter" in bad.stderr
