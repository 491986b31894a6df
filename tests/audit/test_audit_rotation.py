"""Rotation on a real two-worker node (rename + SIGHUP), and ``strongroom audit`` on its log: enable, list,
verify across the rotated files, and each kind of edit caught."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.audit.conftest import AuditedNode, audited_node
from tests.cli.cli_harness import Cli, base_env
from tests.integration.process_harness import supervisor_pid, wait_until


def cli_for(node: AuditedNode, tmp_path: Path) -> Cli:
    env = base_env(tmp_path)
    env["STRONGROOM_ADDR"] = node.server.address
    env["STRONGROOM_TOKEN"] = node.root
    return Cli(env)


def chains_in(path: Path) -> set[str]:
    return {orjson.loads(line)["chain"]["id"] for line in path.read_bytes().splitlines()} if path.exists() else set()


def touch_every_worker(node: AuditedNode, label: str) -> None:
    pids = node.workers()
    for pid in pids:
        with node.api.pinned(pid, pids) as client:
            assert client.request("POST", f"secret/data/{label}-{pid}", json={"data": {"n": pid}}).status_code == 200
            assert client.request("GET", f"secret/data/{label}-{pid}").status_code == 200


def verify(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("audit", "verify", "-format=json", *args)
    return result.exit_code, json.loads(result.stdout)


@dataclass(frozen=True)
class RotatedLog:
    """A log written by both workers of a real node, rotated once mid-way, after a graceful stop."""

    old: Path
    new: Path
    public_key: str
    cli: Cli


@pytest.fixture(scope="module")
def rotated_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RotatedLog]:
    directory = tmp_path_factory.mktemp("rotation")
    with audited_node(directory) as node:
        yield write_and_rotate(node, directory)


def write_and_rotate(node: AuditedNode, tmp_path: Path) -> RotatedLog:
    cli = cli_for(node, tmp_path)
    empty = cli("audit", "list")
    assert empty.exit_code == 2
    assert "No audit devices are enabled." in empty.stderr

    log = node.directory / "audit.log"
    enabled = cli("audit", "enable", "-description=main", "file", f"file_path={log}", "checkpoint_entries=4")
    assert enabled.exit_code == 0, enabled.output
    assert enabled.stdout.strip() == "Success! Enabled the file audit device at: file/"
    listed = cli("audit", "list", "-detailed")
    assert listed.stdout.splitlines()[0].split() == ["Path", "Type", "Description", "Replication", "Options"]
    assert f"file_path={log}" in listed.stdout
    public_key = str(json.loads(cli("audit", "list", "-format=json").stdout)["file/"]["checkpoint_public_key"])

    touch_every_worker(node, "before")
    first_chains = chains_in(log)
    assert len(first_chains) == 2

    old = node.directory / "audit.log.1"
    log.rename(old)
    os.kill(supervisor_pid(node.server), signal.SIGHUP)

    def both_workers_moved() -> bool:
        touch_every_worker(node, "after")
        return chains_in(log) >= first_chains

    wait_until(both_workers_moved, 20, "both workers to reopen the audit file")
    assert node.server.process is not None
    assert node.server.process.poll() is None

    # While the server runs the chains are open: fine with -allow-open-tail, not without.
    code, report = verify(cli, str(old), str(log), "-allow-open-tail")
    assert code == 0, report
    code, report = verify(cli, str(old), str(log))
    assert code == 1
    assert {p["kind"] for p in report["problems"]} == {"open-tail"}

    assert node.server.stop() == 0
    return RotatedLog(old, log, public_key, cli)


def test_a_rotated_log_from_a_real_server_verifies_in_any_order(rotated_log: RotatedLog) -> None:
    old, new, key, cli = rotated_log.old, rotated_log.new, rotated_log.public_key, rotated_log.cli
    old_entries = [orjson.loads(line) for line in old.read_bytes().splitlines()]
    assert sorted(e["checkpoint"]["kind"] for e in old_entries[-2:]) == ["rotate", "rotate"]
    for files in ((old, new), (new, old)):
        code, report = verify(cli, f"-public-key={key}", *map(str, files))
        assert code == 0, report
        assert report["intact"] is True
        assert report["files"] == [str(old), str(new)]
        assert report["chains"] == 2
    text = cli("audit", "verify", f"-public-key={key}", str(new), str(old))
    assert "Intact" in text.stdout


def _change(lines: list[bytes]) -> int:
    index = next(i for i, line in enumerate(lines) if b'"type":"response"' in line and i > 3)
    lines[index] = lines[index].replace(b'"status_code":200', b'"status_code":403')
    return index


def _delete(lines: list[bytes]) -> int:
    index = next(i for i, line in enumerate(lines) if b'"type":"request"' in line and i > 3)
    del lines[index]
    return index


def _insert(lines: list[bytes]) -> int:
    lines.insert(6, lines[3])
    return 6


def _reorder(lines: list[bytes]) -> int:
    chain_of = [orjson.loads(line)["chain"]["id"] for line in lines]
    index = next(i for i in range(3, len(lines)) if chain_of[i] == chain_of[i + 1])
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    return index


def _truncate(lines: list[bytes]) -> int:
    del lines[-3:]
    return -1  # the tail is named at its chain's last remaining line, wherever that is


@pytest.mark.parametrize(("edit", "kind"), [
    (_change, "changed"), (_delete, "deleted"), (_insert, "inserted"), (_reorder, "reordered"),
    (_truncate, "open-tail"),
])
def test_each_kind_of_edit_to_a_real_servers_log_is_caught_and_located(
    rotated_log: RotatedLog, tmp_path: Path, edit: Callable[[list[bytes]], int], kind: str,
) -> None:
    old, new, key = rotated_log.old, rotated_log.new, rotated_log.public_key
    lines = new.read_bytes().splitlines(keepends=True)
    index = edit(lines)
    tampered = tmp_path / "tampered.log"
    tampered.write_bytes(b"".join(lines))

    code, report = verify(rotated_log.cli, f"-public-key={key}", str(old), str(tampered))
    assert code == 1
    problems = report["problems"]
    assert isinstance(problems, list)
    first = problems[0]
    assert first["kind"] == kind, problems
    assert first["file"] == str(tampered)
    if index >= 0:
        # Named at the edited line, or (a deletion) at the line where the gap shows.
        assert index + 1 <= first["line"] <= index + 3, (index, problems)
    else:
        assert "unverified tail" in first["message"]
