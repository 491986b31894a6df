"""KV rotation: exactly once across Cores and restarts, metrics and alerts, and no value anywhere it must not be."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from rotation_support import data, history, run_due, webhook
from tests.api.api_support import started_server
from tests.metrics.samples import local
from tests.support.inprocess import InProcessServer
from tests.support.sqlite_cores import close_core, sqlite_core, tick_together

from strongroom.core import alerts, telemetry
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.signals import ROTATION_FAILED, Signal
from strongroom.sdk.scheduling import ROTATION_ALERT_AFTER
from strongroom.sdk.system import ManualClock

CANARY = "CANARY-9f3c1d7e-rotated-value"


def _sqlite_core(db: Path, clock: ManualClock, first: InProcessServer | None = None) -> InProcessServer:
    def mount(srv: InProcessServer) -> None:
        assert srv.request("POST", "sys/mounts/secret", json={"type": "kv-v2"}).status_code == 204

    return sqlite_core(db, clock, first=first, setup=mount)


def test_two_cores_on_one_sqlite_file_rotate_each_secret_once_per_due_time(tmp_path: Path) -> None:
    clock = ManualClock()
    a = _sqlite_core(tmp_path / "kv.db", clock)
    b = _sqlite_core(tmp_path / "kv.db", clock, first=a)
    try:
        for i in range(12):
            a.request("POST", f"secret/rotation/s{i}", json={"interval": "10m", "generator": "random"})
        for _ in range(3):
            clock.advance(600)
            for _ in range(3):
                tick_together(a, b)
        for i in range(12):
            assert data(b, f"s{i}")["metadata"]["version"] == 3  # three due times, three versions
            assert [h["version"] for h in history(a, f"s{i}")] == [3, 2, 1]
    finally:
        close_core(b)
        close_core(a)


def test_a_process_dying_after_writing_the_version_does_not_make_the_next_one_write_it_again(tmp_path: Path) -> None:
    clock = ManualClock()
    a = _sqlite_core(tmp_path / "kv.db", clock)
    a.request("POST", "secret/rotation/db", json={"interval": "1h", "generator": "random"})
    uuid = a.request("GET", "sys/mounts").json()["data"]["secret/"]["uuid"]
    clock.advance(3600)
    claimed = a.run(a.core.scheduler._claim(uuid, "rotation/db"))
    assert claimed is not None
    backend = a.run(a.core._job_backend(uuid))
    a.run(backend.run_job(claimed.job()))  # the version is written; the process dies before the scheduler knows
    close_core(a)
    b = _sqlite_core(tmp_path / "kv.db", clock, first=a)
    try:
        clock.advance(b.core.scheduler.config.claim_seconds)
        run_due(b)
        assert data(b, "db")["metadata"]["version"] == 1  # the repeated run for that due time wrote nothing
        job = b.run(b.core.scheduler.lookup(uuid, "rotation/db"))
        assert job is not None
        assert job.due_at > clock()
        clock.advance(3600)
        run_due(b)
        assert data(b, "db")["metadata"]["version"] == 2  # and the schedule goes on
    finally:
        close_core(b)


def test_a_restart_after_the_claim_loses_no_rotation(tmp_path: Path) -> None:
    clock = ManualClock()
    a = _sqlite_core(tmp_path / "kv.db", clock)
    a.request("POST", "secret/rotation/db", json={"interval": "1h", "generator": "random"})
    uuid = a.request("GET", "sys/mounts").json()["data"]["secret/"]["uuid"]
    clock.advance(3600)
    assert a.run(a.core.scheduler._claim(uuid, "rotation/db")) is not None  # then the process dies
    close_core(a)
    b = _sqlite_core(tmp_path / "kv.db", clock, first=a)
    try:
        run_due(b)
        assert b.request("GET", "secret/data/db").status_code == 404  # the claim still holds
        clock.advance(b.core.scheduler.config.claim_seconds)
        run_due(b)
        assert data(b, "db")["metadata"]["version"] == 1
    finally:
        close_core(b)


@pytest.fixture
def loopback_server(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Iterator[InProcessServer]:
    monkeypatch.setenv("STRONGROOM_KV_ROTATION_ALLOW_LOOPBACK", "true")
    with started_server(clock=clock) as srv:
        yield srv


def test_rotations_are_counted_and_repeated_failures_raise_one_alert(
    loopback_server: InProcessServer, clock: ManualClock
) -> None:
    server = loopback_server
    labels = {"kind": "kv", "mount_point": "secret/"}
    before = {o: local("strongroom_rotation_total", **labels, outcome=o) for o in ("success", "failure")}
    failures_before = local("strongroom_rotation_failures_total", **labels)
    signals: list[Signal] = []
    alerts.install(signals.append)
    try:
        with webhook() as hook:
            server.request("POST", "secret/rotation/alerting",
                           json={"interval": "1h", "generator": "webhook", "url": hook.url})
            hook.status = 500
            clock.advance(3600)
            for _ in range(ROTATION_ALERT_AFTER + 1):
                run_due(server)
                clock.advance(3600)  # past any backoff
            hook.status = 200
            hook.answers.append({"value": "fine"})
            run_due(server)
    finally:
        alerts.install(None)
    assert local("strongroom_rotation_total", **labels, outcome="failure") - before["failure"] == 4
    assert local("strongroom_rotation_failures_total", **labels) - failures_before == 4
    assert local("strongroom_rotation_total", **labels, outcome="success") - before["success"] == 1
    assert local("strongroom_rotation_last_success_timestamp_seconds", **labels) == clock()
    raised = [s for s in signals if s.kind == ROTATION_FAILED]
    assert [s.details["failures"] for s in raised] == ["3", "4"]  # from the third failure in a row on
    assert {s.path for s in raised} == {"secret/alerting"}
    detector = Detector(DetectorSettings())
    opened = [detector.process(s) for s in raised]
    assert opened[0] is not None
    assert opened[1] is None  # deduplicated into the first alert
    assert opened[0].summary == "rotation of secret/alerting failed 3 times in a row"


def test_no_rotated_value_reaches_history_logs_metrics_or_audit(
    loopback_server: InProcessServer, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = loopback_server
    audit_log = tmp_path / "audit.log"
    reply = server.request("PUT", "sys/audit/file", json={"type": "file", "options": {"file_path": str(audit_log)}})
    assert reply.status_code == 204
    caplog.set_level(logging.DEBUG)
    with webhook() as hook:
        server.request("POST", "secret/rotation/canary", json={"interval": "1h", "generator": "webhook",
                                                               "url": hook.url, "key": "token"})
        hook.answers.append({"value": CANARY})
        assert server.request("POST", "secret/rotate/canary").status_code == 200
        # A failing endpoint that echoes the value in its body: the error names the host and the status only.
        hook.status = 502
        hook.answers.append({"value": CANARY, "error": CANARY})
        clock.advance(3600)
        run_due(server)
        failed = server.request("POST", "secret/rotate/canary")
        assert failed.status_code == 500
        assert CANARY not in failed.text
    assert data(server, "canary")["data"]["token"] == CANARY  # it was written: the check below is not vacuous
    rotation = server.request("GET", "secret/rotation/canary").text
    assert "answered HTTP 502" in rotation
    assert CANARY not in rotation
    assert CANARY not in caplog.text
    assert CANARY.encode() not in generate_latest(telemetry.REGISTRY)
    server.run(server.core.audit.close())
    assert audit_log.read_text()  # requests were audited ...
    assert CANARY not in audit_log.read_text()  # ... and the value only ever as an HMAC
