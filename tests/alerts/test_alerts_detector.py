"""The detector's rules and deduplication, driven by signals with explicit times (no sleeping)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from strongroom.core.alerts import signals as k
from strongroom.core.alerts.detector import Detector, DetectorSettings
from strongroom.core.alerts.model import Alert
from strongroom.core.alerts.signals import Signal
from strongroom.core.alerts.windows import BurstRule, Windows

T0 = 1_800_000_000.0


def denial(at: float, addr: str = "10.0.0.9", accessor: str = "acc-1", entity: str = "") -> Signal:
    return Signal(k.PERMISSION_DENIED, at, remote_addr=addr, accessor=accessor, entity_id=entity,
                  path="secret/data/x")


def feed(detector: Detector, signals: list[Signal]) -> list[Alert]:
    opened = [detector.process(s) for s in signals]
    return [alert for alert in opened if alert is not None]


def detector(settings: DetectorSettings | None = None) -> Detector:
    return Detector(settings or DetectorSettings())


def test_a_burst_of_denials_from_one_source_is_one_alert_with_its_count() -> None:
    d = detector()
    opened = feed(d, [denial(T0 + i * 0.1) for i in range(50)])
    assert len(opened) == 1
    alert = opened[0]
    assert (alert.kind, alert.count) == (k.PERMISSION_DENIED, 50)
    assert alert.first_seen == T0
    assert alert.last_seen == pytest.approx(T0 + 4.9)
    assert alert.raised_at == pytest.approx(T0 + 0.9)  # the tenth denial crossed the threshold
    assert alert.subject == {"remote_addr": "10.0.0.9", "accessor": "acc-1", "path": "secret/data/x"}
    assert "address 10.0.0.9" in alert.summary
    assert d.recent() == [alert]


def test_denials_below_the_threshold_raise_nothing() -> None:
    d = detector()
    assert feed(d, [denial(T0 + i) for i in range(9)]) == []
    assert d.recent() == []


def test_denials_spread_wider_than_the_window_raise_nothing() -> None:
    d = detector()  # 10 within 60 s; one every 7 s never puts 10 inside a window
    assert feed(d, [denial(T0 + i * 7) for i in range(40)]) == []


def test_a_token_used_from_many_addresses_opens_one_alert_keyed_by_its_accessor() -> None:
    d = detector()
    opened = feed(d, [denial(T0 + i, addr=f"10.0.0.{i}", accessor="stolen") for i in range(30)])
    assert len(opened) == 1
    assert opened[0].key == "permission_denied|accessor|stolen"
    assert opened[0].count == 30
    assert "token accessor stolen" in opened[0].summary


def test_an_entity_is_a_subject_of_its_own() -> None:
    d = detector()
    signals = [denial(T0 + i, addr=f"10.1.0.{i}", accessor=f"acc-{i}", entity="ent-7") for i in range(10)]
    (alert,) = feed(d, signals)
    assert alert.key == "permission_denied|entity_id|ent-7"


def test_the_same_subject_opens_a_new_alert_only_after_a_quiet_period() -> None:
    d = detector(DetectorSettings(quiet_period=300.0))
    (first,) = feed(d, [denial(T0 + i) for i in range(10)])
    # Still noisy within the quiet period: absorbed, however long the attack goes on.
    assert feed(d, [denial(T0 + 200 + i * 250) for i in range(5)]) == []
    assert first.count == 15
    # Quiet for longer than the period, then a new burst: a new alert.
    later = T0 + 200 + 4 * 250 + 301
    (second,) = feed(d, [denial(later + i) for i in range(10)])
    assert second is not first
    assert second.count == 10
    assert d.recent() == [second, first]


def test_windows_restart_after_an_alert_so_stale_counts_do_not_refire() -> None:
    d = detector(DetectorSettings(quiet_period=30.0))
    feed(d, [denial(T0 + i) for i in range(10)])
    # After the alert closes, a single denial is one event, not the eleventh.
    assert feed(d, [denial(T0 + 100)]) == []


def test_failed_logins_follow_their_own_rule() -> None:
    d = detector(DetectorSettings(login_failed=BurstRule(3, 10.0)))
    logins = [Signal(k.LOGIN_FAILED, T0 + i, remote_addr="10.0.0.1") for i in range(3)]
    assert feed(d, [denial(T0 + i, addr="10.0.0.1") for i in range(3)]) == []
    (alert,) = feed(d, logins)
    assert (alert.kind, alert.count) == (k.LOGIN_FAILED, 3)
    assert "failed logins" in alert.summary


def test_a_canary_read_alerts_on_the_first_read_and_repeats_add_to_it() -> None:
    d = detector()
    read = Signal(k.CANARY_READ, T0, remote_addr="10.0.0.5", accessor="a", path="secret/data/honey")
    (alert,) = feed(d, [read, read, read])
    assert alert.count == 3
    assert alert.severity == "critical"
    assert alert.summary == "canary secret secret/data/honey was read from 10.0.0.5"
    other_source = Signal(k.CANARY_READ, T0 + 1, remote_addr="10.0.0.6", path="secret/data/honey")
    assert len(feed(d, [other_source])) == 1


@pytest.mark.parametrize(
    ("signal", "key"),
    [
        (Signal(k.BOUND_CIDR_VIOLATION, T0, remote_addr="192.0.2.1", accessor="acc"), "bound_cidr_violation|acc"),
        (Signal(k.AUDIT_FAILURE, T0, details=MappingProxyType({"device": "file/"})), "audit_failure|file/"),
        (Signal(k.SEALED, T0), "sealed"),
    ],
)
def test_single_event_kinds_alert_at_once_and_deduplicate_on_their_key(signal: Signal, key: str) -> None:
    d = detector()
    (alert,) = feed(d, [signal, signal])
    assert (alert.key, alert.count) == (key, 2)


def test_history_is_bounded_newest_first_and_filterable() -> None:
    d = detector(DetectorSettings(history=3))
    for i in range(5):
        d.process(Signal(k.CANARY_READ, T0 + i, path=f"secret/data/c{i}"))
    d.process(Signal(k.SEALED, T0 + 10))
    assert [a.kind for a in d.recent()] == [k.SEALED, k.CANARY_READ, k.CANARY_READ]
    assert [a.details for a in d.recent(kind=k.SEALED)] == [{}]
    assert len(d.recent(limit=1)) == 1


def test_windows_forget_the_least_recent_subject_past_their_cap() -> None:
    windows = Windows(max_tracked=100)
    rule = BurstRule(5, 60.0)
    for i in range(1000):
        windows.add(f"addr-{i}", T0, rule)
    assert len(windows) == 100
    assert windows.add("addr-999", T0 + 1, rule) == (2, T0)  # recent ones are kept
    assert windows.add("addr-0", T0 + 1, rule) == (1, T0 + 1)  # the oldest was forgotten


def test_a_burst_rule_needs_a_positive_threshold_and_window() -> None:
    with pytest.raises(ValueError, match="threshold"):
        BurstRule(0, 60.0)
    with pytest.raises(ValueError, match="window"):
        BurstRule(3, 0.0)


def test_open_alerts_are_swept_once_quiet() -> None:
    d = detector(DetectorSettings(quiet_period=1.0))
    for i in range(300):
        d.process(Signal(k.CANARY_READ, T0 + i * 2, path=f"secret/data/c{i}"))
    assert len(d._open) < 300  # closed alerts do not pile up in the index
