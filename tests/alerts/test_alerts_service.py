"""The alert service (one delivery per alert, after the delay) and the worker-side forwarder."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from strongroom.core.alerts import signals as k
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.forwarding import LocalSignals, SignalForwarder
from strongroom.core.alerts.service import AlertService
from strongroom.core.alerts.signals import Signal
from strongroom.core.alerts.sinks import LogSink, MetricSink
from strongroom.core.hooks import RequestRecord

T0 = 1_800_000_000.0


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, alert: dict[str, Any]) -> None:
        self.sent.append(alert)


class BrokenSink:
    name = "broken"

    async def send(self, alert: dict[str, Any]) -> None:
        raise OSError("sink down")


def denial(i: int) -> Signal:
    return Signal(k.PERMISSION_DENIED, T0 + i * 0.01, remote_addr="10.0.0.9")


def test_a_burst_reaches_each_sink_once_with_the_count_reached_during_the_delay() -> None:
    sink = ListSink()
    service = AlertService(Detector(DetectorSettings()), [sink], notify_delay=0.2)

    async def scenario() -> None:
        for i in range(50):
            service.submit(denial(i))
            await asyncio.sleep(0)
        await asyncio.sleep(0.4)

    asyncio.run(scenario())
    assert [(a["kind"], a["count"], a["notified"]) for a in sink.sent] == [(k.PERMISSION_DENIED, 50, True)]
    assert service.recent()[0]["id"] == sink.sent[0]["id"]


def test_flush_delivers_waiting_alerts_at_once() -> None:
    sink = ListSink()
    service = AlertService(Detector(DetectorSettings()), [sink], notify_delay=3600)

    async def scenario() -> None:
        service.submit(Signal(k.SEALED, T0))
        await asyncio.sleep(0.05)
        assert sink.sent == []
        await service.flush(5)

    asyncio.run(scenario())
    assert [a["kind"] for a in sink.sent] == [k.SEALED]


def test_a_failing_sink_does_not_keep_the_others_from_delivering(caplog: pytest.LogCaptureFixture) -> None:
    sink = ListSink()
    service = AlertService(Detector(DetectorSettings()), [BrokenSink(), sink], notify_delay=0)

    async def scenario() -> None:
        service.submit(Signal(k.SEALED, T0))
        await service.flush(5)

    asyncio.run(scenario())
    assert len(sink.sent) == 1
    assert "alert sink broken failed" in caplog.text


def test_malformed_signals_from_workers_are_skipped() -> None:
    service = AlertService(Detector(DetectorSettings()), [], notify_delay=0)

    async def scenario() -> int:
        taken = service.submit_json([{"kind": k.SEALED, "at": T0}, {"kind": "bogus"}, "x", None])
        await service.flush(5)
        return taken

    assert asyncio.run(scenario()) == 1
    assert service.submit_json("not a list") == 0
    assert [a["kind"] for a in service.recent()] == [k.SEALED]


def test_the_log_sink_writes_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    service = AlertService(Detector(DetectorSettings()), [LogSink()], notify_delay=0)

    async def scenario() -> None:
        service.submit(Signal(k.CANARY_READ, T0, remote_addr="10.0.0.5", path="secret/data/honey"))
        await service.flush(5)

    with caplog.at_level(logging.WARNING, logger="strongroom.alerts"):
        asyncio.run(scenario())
    lines = [r for r in caplog.records if r.name == "strongroom.alerts"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert "canary secret secret/data/honey was read from 10.0.0.5" in lines[0].getMessage()


class FakeCounter:
    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def labels(self, *, kind: str) -> FakeCounter.Child:
        return FakeCounter.Child(self, kind)

    class Child:
        def __init__(self, parent: FakeCounter, kind: str) -> None:
            self.parent, self.kind = parent, kind

        def inc(self, amount: float = 1) -> None:
            self.parent.counts[self.kind] = self.parent.counts.get(self.kind, 0) + amount


def test_the_metric_counts_alerts_not_the_signals_they_absorbed() -> None:
    counter = FakeCounter()
    service = AlertService(Detector(DetectorSettings()), [MetricSink(counter)], notify_delay=0.05)

    async def scenario() -> None:
        for i in range(40):
            service.submit(denial(i))
        await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert counter.counts == {k.PERMISSION_DENIED: 1}


def denied_record(i: int) -> RequestRecord:
    return RequestRecord(request_id=str(i), operation="read", path="secret/data/x", status=403, duration=0.0,
                         remote_addr="10.0.0.9", permission_denied=True)


def ok_record() -> RequestRecord:
    return RequestRecord(request_id="ok", operation="read", path="secret/data/x", status=200, duration=0.0)


def test_the_forwarder_sends_only_signals_in_batches_without_holding_up_requests() -> None:
    batches: list[list[dict[str, Any]]] = []
    release = asyncio.Event()

    async def slow_send(batch: list[dict[str, Any]]) -> None:
        await release.wait()  # the supervisor is slow to read
        batches.append(batch)

    forwarder = SignalForwarder(slow_send, flush_interval=0.01, max_batch=4)

    async def scenario() -> None:
        for i in range(10):
            forwarder.observe(denied_record(i))  # returns at once, channel or not
            forwarder.observe(ok_record())
        await asyncio.sleep(0.05)
        assert batches == []
        release.set()
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert [len(b) for b in batches] == [4, 4, 2]
    assert all(item["kind"] == k.PERMISSION_DENIED for batch in batches for item in batch)


def test_the_forwarder_queue_is_bounded_and_drops_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[dict[str, Any]] = []

    async def send(batch: list[dict[str, Any]]) -> None:
        sent.extend(batch)

    forwarder = SignalForwarder(send, max_queue=5)
    for i in range(8):  # no running loop: queued only
        forwarder.observe(denied_record(i))
    assert forwarder.dropped == 3
    asyncio.run(forwarder.flush())
    assert len(sent) == 5
    assert "alert signals dropped" in caplog.text


def test_a_batch_the_channel_refuses_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def closed(batch: list[dict[str, Any]]) -> None:
        raise ConnectionResetError

    forwarder = SignalForwarder(closed)
    forwarder.observe(denied_record(1))
    asyncio.run(forwarder.flush())
    assert "could not forward 1 alert signals: ConnectionResetError" in caplog.text


def test_local_signals_feed_a_detector_in_the_same_process() -> None:
    service = AlertService(Detector(DetectorSettings()), [], notify_delay=0)
    observer = LocalSignals(service, clock=lambda: T0)

    async def scenario() -> None:
        for i in range(12):
            observer.observe(denied_record(i))
        observer.observe(ok_record())
        await service.flush(5)

    asyncio.run(scenario())
    assert [(a["kind"], a["count"]) for a in service.recent()] == [(k.PERMISSION_DENIED, 12)]
