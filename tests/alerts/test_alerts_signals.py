"""Which finished requests carry a signal, what crosses the worker channel, and report()."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strongroom.core import alerts
from strongroom.core.alerts import signals as k
from strongroom.core.alerts.signals import MAX_DETAILS, MAX_FIELD, Signal, from_record
from strongroom.core.hooks import RequestRecord

T0 = 1_800_000_000.0


def record(**kwargs: object) -> RequestRecord:
    base = RequestRecord(request_id="r", operation="read", path="secret/data/x", status=200, duration=0.001,
                         remote_addr="10.0.0.1")
    for name, value in kwargs.items():
        setattr(base, name, value)
    return base


def test_an_ordinary_request_carries_no_signal() -> None:
    assert from_record(record(), T0) is None
    assert from_record(record(status=404, error="not found"), T0) is None
    assert from_record(record(login_method="userpass", login_succeeded=True), T0) is None


def test_a_denial_carries_who_and_where_but_no_value() -> None:
    signal = from_record(record(status=403, permission_denied=True, accessor="acc", entity_id="ent"), T0)
    assert signal is not None
    assert signal.to_json() == {
        "kind": k.PERMISSION_DENIED, "at": T0, "remote_addr": "10.0.0.1", "accessor": "acc", "entity_id": "ent",
        "path": "secret/data/x", "details": {"operation": "read", "status": "403"},
    }


def test_a_failed_login_names_its_method() -> None:
    signal = from_record(record(status=400, login_method="userpass", login_succeeded=False), T0)
    assert signal is not None
    assert (signal.kind, signal.details["method"]) == (k.LOGIN_FAILED, "userpass")


def test_the_most_specific_signal_wins() -> None:
    cidr = record(status=403, permission_denied=True, accessor="a", tags={"bound_cidr_violation": "1"})
    canary = record(tags={"canary": "true"})
    kinds = [signal.kind if signal else None for signal in (from_record(cidr, T0), from_record(canary, T0))]
    assert kinds == [k.BOUND_CIDR_VIOLATION, k.CANARY_READ]


def test_signals_round_trip_through_json() -> None:
    signal = from_record(record(status=403, permission_denied=True), T0)
    assert signal is not None
    assert Signal.from_json(signal.to_json()) == signal


@pytest.mark.parametrize(
    "raw",
    [None, [], "permission_denied", {"kind": "nonsense", "at": T0}, {"kind": k.SEALED},
     {"kind": k.SEALED, "at": True}, {"kind": k.SEALED, "at": "now"}],
)
def test_malformed_signals_from_the_channel_are_refused(raw: object) -> None:
    assert Signal.from_json(raw) is None


def test_signals_from_the_channel_are_bounded() -> None:
    huge = "x" * (MAX_FIELD * 4)
    raw = {"kind": k.AUDIT_FAILURE, "at": T0, "remote_addr": huge, "accessor": 7,
           "details": {f"k{i}": huge for i in range(MAX_DETAILS * 3)}}
    signal = Signal.from_json(raw)
    assert signal is not None
    assert len(signal.remote_addr) == MAX_FIELD
    assert signal.accessor == ""
    assert len(signal.details) == MAX_DETAILS
    assert all(len(v) == MAX_FIELD for v in signal.details.values())


@pytest.fixture
def reported() -> Iterator[list[Signal]]:
    got: list[Signal] = []
    alerts.install(got.append)
    yield got
    alerts.install(None)


def test_report_hands_the_signal_to_the_installed_destination(reported: list[Signal]) -> None:
    alerts.report(k.AUDIT_FAILURE, device="file/", reason="OSError")
    (signal,) = reported
    assert signal.kind == k.AUDIT_FAILURE
    assert dict(signal.details) == {"device": "file/", "reason": "OSError"}
    assert signal.at > 0


def test_report_ignores_unknown_kinds_without_raising(reported: list[Signal], caplog: pytest.LogCaptureFixture) -> None:
    alerts.report("meteor_strike")
    assert reported == []
    assert "unknown alert signal kind" in caplog.text


def test_report_never_raises_even_when_its_destination_fails(caplog: pytest.LogCaptureFixture) -> None:
    def broken(signal: Signal) -> None:
        raise RuntimeError("queue full")

    alerts.install(broken)
    try:
        alerts.report(k.SEALED)
    finally:
        alerts.install(None)
    assert "could not report an alert signal" in caplog.text
