"""The detector: signals in, deduplicated alerts out. Pure logic, no I/O, no clock of its own.

Rules:

* ``permission_denied`` and ``login_failed`` are burst rules: an alert opens
  when ``threshold`` such signals from one source address, one token accessor
  or one entity fall within ``window`` seconds.
* ``canary_read``, ``bound_cidr_violation``, ``audit_failure``, ``sealed`` and
  ``rotation_failed`` open an alert on the first signal (a rotation reports one
  only once it has failed several times in a row).

Deduplication: an open alert absorbs every later signal that shares one of its
keys (the subjects of the signal that opened it), adding to ``count`` and
moving ``last_seen``, until ``quiet_period`` seconds pass without one. Only
then can the same subject open a new alert. So one attack is one alert: a
burst of 50 denials from one address with one token opens one alert (keyed by
the address, the accessor and the entity together) with count 50, not one per
subject and not one per threshold crossing.

Time is the signals' own ``at``; the caller supplies it, which keeps the rules
testable without sleeping.
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.core.alerts import signals as k
from strongroom.core.alerts.model import Alert
from strongroom.core.alerts.signals import Signal
from strongroom.core.alerts.windows import BurstRule, Windows


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Thresholds and windows (seconds). Defaults: 10 in 60 s; quiet period 5 minutes; 500 alerts kept."""

    permission_denied: BurstRule = field(default_factory=BurstRule)
    login_failed: BurstRule = field(default_factory=BurstRule)
    quiet_period: float = 300.0
    history: int = 500
    max_tracked: int = 10_000


class Detector:
    def __init__(self, settings: DetectorSettings, *, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self.settings = settings
        self._random = random_bytes
        self._rules = {k.PERMISSION_DENIED: settings.permission_denied, k.LOGIN_FAILED: settings.login_failed}
        self._windows = Windows(settings.max_tracked)
        self._open: dict[str, Alert] = {}
        self._seen = 0
        #: The most recent alerts, newest first; bounded (``settings.history``).
        self.history: deque[Alert] = deque(maxlen=max(1, settings.history))

    def process(self, signal: Signal) -> Alert | None:
        """Take one signal; answer the alert it opened, or ``None`` (absorbed, or below threshold)."""
        self._seen += 1
        if self._seen % 256 == 0 or len(self._open) > self.settings.max_tracked:
            self._sweep(signal.at)
        keys = dedup_keys(signal)
        current = self._find_open(keys, signal.at)
        if current is not None:
            current.count += 1
            current.first_seen = min(current.first_seen, signal.at)
            current.last_seen = max(current.last_seen, signal.at)
            return None
        rule = self._rules.get(signal.kind)
        count, first, primary = 1, signal.at, keys[0]
        if rule is not None:
            fired: tuple[int, float, str] | None = None
            for key in keys:
                n, oldest = self._windows.add(key, signal.at, rule)
                if fired is None and n >= rule.threshold:
                    fired = (n, oldest, key)
            if fired is None:
                return None
            count, first, primary = fired
            for key in keys:
                self._windows.forget(key)
        alert = Alert(
            id=str(uuid.UUID(bytes=self._random(16), version=4)),
            kind=signal.kind,
            key=primary,
            summary=summary(signal, primary, rule),
            first_seen=first,
            last_seen=signal.at,
            raised_at=signal.at,
            count=count,
            subject=subject_of(signal),
            details=dict(signal.details),
        )
        for key in keys:
            self._open[key] = alert
        self.history.appendleft(alert)
        return alert

    def _find_open(self, keys: list[str], at: float) -> Alert | None:
        for key in keys:
            alert = self._open.get(key)
            if alert is None:
                continue
            if at - alert.last_seen <= self.settings.quiet_period:
                return alert
            del self._open[key]  # quiet long enough: closed; the subject may open a new alert
        return None

    def _sweep(self, now: float) -> None:
        quiet = self.settings.quiet_period
        for key in [key for key, alert in self._open.items() if now - alert.last_seen > quiet]:
            del self._open[key]

    def recent(self, *, kind: str = "", limit: int = 100) -> list[Alert]:
        """Newest first, optionally only one kind."""
        found = [a for a in self.history if not kind or a.kind == kind]
        return found[: max(0, limit)]


def dedup_keys(signal: Signal) -> list[str]:
    """The subjects a signal belongs to; the first is its primary subject."""
    kind = signal.kind
    if kind in (k.PERMISSION_DENIED, k.LOGIN_FAILED):
        keys = [f"{kind}|remote_addr|{signal.remote_addr}"]
        if signal.accessor:
            keys.append(f"{kind}|accessor|{signal.accessor}")
        if signal.entity_id:
            keys.append(f"{kind}|entity_id|{signal.entity_id}")
        return keys
    if kind == k.CANARY_READ:
        return [f"{kind}|{signal.path}|{signal.remote_addr}"]
    if kind == k.BOUND_CIDR_VIOLATION:
        return [f"{kind}|{signal.accessor}"]
    if kind == k.AUDIT_FAILURE:
        return [f"{kind}|{signal.details.get('device', '')}"]
    if kind == k.ROTATION_FAILED:
        return [f"{kind}|{signal.path}"]
    return [kind]


def subject_of(signal: Signal) -> dict[str, str]:
    fields = {"remote_addr": signal.remote_addr, "accessor": signal.accessor,
              "entity_id": signal.entity_id, "path": signal.path}
    return {name: value for name, value in fields.items() if value}


def summary(signal: Signal, primary: str, rule: BurstRule | None) -> str:
    """One line for people; written once, when the alert opens."""
    kind = signal.kind
    addr = signal.remote_addr or "an unknown address"
    if rule is not None:
        what = "permission denials" if kind == k.PERMISSION_DENIED else "failed logins"
        _, subject_kind, value = primary.split("|", 2)
        label = {"remote_addr": "address", "accessor": "token accessor", "entity_id": "entity"}[subject_kind]
        return f"{rule.threshold} or more {what} from {label} {value or 'unknown'} within {rule.window:g}s"
    if kind == k.CANARY_READ:
        return f"canary secret {signal.path} was read from {addr}"
    if kind == k.BOUND_CIDR_VIOLATION:
        return f"token {signal.accessor} was used from {addr}, outside its bound CIDRs"
    if kind == k.AUDIT_FAILURE:
        device = signal.details.get("device", "?")
        return f"audit device {device} failed to record a request"
    if kind == k.ROTATION_FAILED:
        failures = signal.details.get("failures", "?")
        return f"rotation of {signal.path} failed {failures} times in a row"
    return "the server was sealed"
