"""The broker without a server: fail closed, deadlines on blocked devices, group commit, the table
shared by several processes, and the chain it writes."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from strongroom.audit import file
from strongroom.core.audit.broker import Auditor
from strongroom.core.audit.chain import load_public_key
from strongroom.core.audit.verify import verify_logs
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.audit import AuditDevice, DeviceConfig
from strongroom.sdk.storage import StorageBackend
from strongroom.storage.inmem import InmemBackend
from tests.audit.audit_support import event, run


class FakeDevice(AuditDevice):
    """Records lines in memory; can be made to fail or to block until released."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.writes = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def write(self, lines: Sequence[bytes]) -> int:
        self.gate.wait()
        self.writes += 1
        if self.fail:
            raise OSError(28, "No space left on device")
        self.lines.extend(lines)
        return len(lines)

    def entries(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines]

    def request_ids(self, kind: str) -> list[str]:
        return [e["request"]["id"] for e in self.entries() if e["type"] == kind]


class Devices:
    """A device registry whose ``fake`` type hands out FakeDevices the test can reach."""

    def __init__(self) -> None:
        self.made: dict[str, FakeDevice] = {}

    def fake(self, config: DeviceConfig) -> AuditDevice:
        return self.made.setdefault(config.path, FakeDevice())

    def registry(self) -> dict[str, Any]:
        return {"fake": self.fake, "file": file.build}


def auditor(storage: StorageBackend, devices: Devices, failures: list[tuple[str, str]] | None = None) -> Auditor:
    def note(path: str, reason: str) -> None:
        if failures is not None:
            failures.append((path, reason))

    return Auditor(storage, devices.registry(), clock=time.time, random_bytes=os.urandom, on_failure=note)


async def enabled(devices: Devices, *paths: str, **options: str) -> Auditor:
    broker = auditor(InmemBackend(), devices)
    for path in paths:
        await broker.enable(path, "fake", options=options)
    await broker.load()
    return broker


def test_with_no_device_enabled_requests_pass_unrecorded() -> None:
    async def scenario() -> None:
        broker = auditor(InmemBackend(), Devices())
        await broker.load()
        await broker.log_request(event())
        await broker.log_response(event())

    run(scenario())


def test_a_request_no_device_could_record_is_refused_with_a_500() -> None:
    devices = Devices()
    failures: list[tuple[str, str]] = []

    async def scenario() -> None:
        broker = auditor(InmemBackend(), devices, failures)
        await broker.enable("fake", "fake")
        await broker.load()
        devices.made["fake/"].fail = True
        with pytest.raises(InternalError, match="audit: no device could record the request") as refused:
            await broker.log_request(event())
        assert refused.value.status == 500
        with pytest.raises(InternalError, match="audit: no device could record the response"):
            await broker.log_response(event())
        devices.made["fake/"].fail = False
        await broker.log_request(event(request_id="after"))
        await broker.unload()

    run(scenario())
    assert failures == [("fake/", "write"), ("fake/", "write")]
    assert devices.made["fake/"].request_ids("request") == ["after"]


def test_one_working_device_is_enough() -> None:
    devices = Devices()

    async def scenario() -> None:
        broker = await enabled(devices, "a", "b")
        devices.made["a/"].fail = True
        await broker.log_request(event())
        await broker.unload()

    run(scenario())
    assert devices.made["b/"].request_ids("request") == ["req-1"]


def test_a_blocked_device_fails_requests_at_the_deadline_then_at_once_and_recovers() -> None:
    devices = Devices()

    async def scenario() -> None:
        broker = await enabled(devices, "fake", write_deadline="300ms")
        device = devices.made["fake/"]
        await broker.log_request(event(request_id="before"))
        device.gate.clear()

        started = time.monotonic()
        with pytest.raises(InternalError):
            await broker.log_request(event(request_id="blocked-1"))
        waited = time.monotonic() - started
        assert 0.25 < waited < 2

        started = time.monotonic()
        with pytest.raises(InternalError):
            await broker.log_request(event(request_id="stalled"))
        assert time.monotonic() - started < 0.1  # stalled for longer than the deadline: refused at once

        device.gate.set()
        deadline = time.monotonic() + 5
        while True:
            try:
                await broker.log_request(event(request_id="recovered"))
                break
            except InternalError:
                assert time.monotonic() < deadline, "the device never recovered"
                await asyncio.sleep(0.02)
        await broker.unload()

    run(scenario())
    ids = devices.made["fake/"].request_ids("request")
    assert ids[0] == "before"
    assert "recovered" in ids
    assert "stalled" not in ids  # refused entries are never written late


def test_concurrent_entries_are_written_in_batches_and_chained_without_gaps() -> None:
    devices = Devices()

    async def scenario() -> None:
        broker = await enabled(devices, "fake")
        devices.made["fake/"].gate.clear()
        pending = [asyncio.ensure_future(broker.log_request(event(request_id=str(i)))) for i in range(300)]
        await asyncio.sleep(0.05)
        devices.made["fake/"].gate.set()
        await asyncio.gather(*pending)
        await broker.unload()

    run(scenario())
    device = devices.made["fake/"]
    assert sorted(device.request_ids("request"), key=int) == [str(i) for i in range(300)]
    assert device.writes < 30
    seqs = [e["chain"]["seq"] for e in device.entries()]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [e["checkpoint"]["kind"] for e in device.entries() if e["type"] == "checkpoint"]
    assert kinds == ["open", "close"]


def test_two_processes_sharing_storage_see_each_others_devices_and_write_their_own_chains(tmp_path: Path) -> None:
    devices = Devices()
    log = tmp_path / "audit.log"

    async def scenario() -> str:
        storage = InmemBackend()
        worker_a, worker_b = auditor(storage, devices), auditor(storage, devices)
        await worker_a.load()
        await worker_b.load()
        await worker_a.enable("file", "file", options={"file_path": str(log), "checkpoint_entries": "3"})
        await worker_a.load()
        await worker_b.load()  # what a generation change triggers in every other process
        for i in range(5):
            await worker_a.log_request(event(request_id=f"a{i}"))
            await worker_b.log_request(event(request_id=f"b{i}"))
        key = (await worker_b.listing())["file/"]["checkpoint_public_key"]
        assert worker_a.hash("file", "x") == worker_b.hash("file", "x")
        assert await worker_b.disable("file")
        await worker_a.load()
        await worker_b.load()
        await worker_a.log_request(event(request_id="unrecorded"))  # nothing enabled any more
        await asyncio.sleep(0.2)  # closing happens on the devices' own threads
        return str(key)

    key = run(scenario())
    entries = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert len({e["chain"]["id"] for e in entries}) == 2
    assert sorted(e["request"]["id"] for e in entries if e["type"] == "request") == sorted(
        [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)])
    assert verify_logs([log], load_public_key(key)).problems == []


def test_enable_refuses_bad_devices_with_a_400(tmp_path: Path) -> None:
    async def scenario() -> None:
        broker = auditor(InmemBackend(), Devices())
        cases: list[tuple[str, str, dict[str, str], str]] = [
            ("x", "nonesuch", {}, "unknown audit device type"),
            ("x", "fake", {"format": "jsonx"}, "format"),
            ("x", "file", {"file_path": str(tmp_path / "a.log"), "mode": "0755"}, "executable"),
            ("x", "file", {"file_path": str(tmp_path / "missing-dir" / "a.log")}, "could not be opened"),
            ("x", "fake", {"prefix": "two\nlines"}, "prefix"),
            ("x", "fake", {"checkpoint_entries": "0"}, "checkpoint_entries"),
            ("x", "fake", {"write_deadline": "forever"}, "write_deadline"),
            ("../x", "fake", {}, "path"),
        ]
        for path, kind, options, message in cases:
            with pytest.raises(InvalidRequest, match=message):
                await broker.enable(path, kind, options=options)
        await broker.enable("team/a", "fake")
        with pytest.raises(InvalidRequest, match="already in use"):
            await broker.enable("team", "fake")
        assert list(await broker.listing()) == ["team/a/"]

    run(scenario())


def test_a_device_that_does_not_open_within_its_deadline_is_not_enabled(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    async def scenario() -> None:
        broker = auditor(InmemBackend(), Devices())
        with pytest.raises(InvalidRequest, match="did not open within"):
            await broker.enable("file", "file", options={"file_path": str(fifo), "write_deadline": "200ms"})
        assert await broker.listing() == {}

    run(scenario())
    # Release the probe thread still waiting for a reader.
    with open(fifo, "rb"):
        pass


def test_the_listing_shows_the_public_key_and_never_a_salt() -> None:
    async def scenario() -> dict[str, Any]:
        broker = await enabled(Devices(), "a", "b")
        listed = await broker.listing()
        assert broker.hash("a", "value") != broker.hash("b", "value")
        with pytest.raises(InvalidRequest, match="unknown audit device"):
            broker.hash("c", "value")
        await broker.unload()
        return listed

    listed = run(scenario())
    assert listed["a/"]["checkpoint_public_key"] == listed["b/"]["checkpoint_public_key"]
    load_public_key(listed["a/"]["checkpoint_public_key"])
    assert "salt" not in orjson.dumps(listed).decode()


def test_a_stored_device_this_process_cannot_start_fails_requests_closed() -> None:
    devices = Devices()

    async def scenario() -> None:
        storage = InmemBackend()
        writer = auditor(storage, devices)
        await writer.enable("fake", "fake")
        reader = Auditor(storage, {}, clock=time.time, random_bytes=os.urandom)  # knows no "fake" type
        await reader.load()
        with pytest.raises(InternalError):
            await reader.log_request(event())

    run(scenario())


def test_reopen_ends_the_old_file_with_a_checkpoint_and_continues_the_chain_in_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"

    async def scenario() -> str:
        broker = auditor(InmemBackend(), Devices())
        await broker.enable("file", "file", options={"file_path": str(log)})
        await broker.load()
        await broker.log_request(event(request_id="first"))
        log.rename(tmp_path / "audit.log.1")
        broker.reopen()
        await broker.log_request(event(request_id="second"))
        key = (await broker.listing())["file/"]["checkpoint_public_key"]
        await broker.close()
        return str(key)

    key = load_public_key(run(scenario()))
    old = [orjson.loads(line) for line in (tmp_path / "audit.log.1").read_bytes().splitlines()]
    new = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert old[-1]["checkpoint"]["kind"] == "rotate"
    assert new[0]["request"]["id"] == "second"
    assert new[0]["chain"]["id"] == old[0]["chain"]["id"]
    assert new[-1]["checkpoint"]["kind"] == "close"
    assert verify_logs([log, tmp_path / "audit.log.1"], key).problems == []
