"""Where alerts go besides ``sys/alerts``: the server log and the alerts metric (the webhook has its own module).

A sink receives an alert's JSON form once (see ``service.AlertService``) and
must not raise for delivery problems it can handle itself; the service logs
anything that escapes and carries on with the other sinks.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("strongroom.alerts")


class Sink(Protocol):
    name: str

    async def send(self, alert: dict[str, Any]) -> None:
        """Deliver one alert (its ``Alert.to_json()`` form)."""


class LogSink:
    """One WARNING line per alert. The alert holds no secret, and the line holds less: no details map."""

    name = "log"

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger

    async def send(self, alert: dict[str, Any]) -> None:
        self._log.warning(
            "alert %s [%s] %s (count %d, first seen %s, last seen %s, id %s)",
            alert["kind"], alert["severity"], alert["summary"], alert["count"],
            alert["first_seen"], alert["last_seen"], alert["id"],
        )


class _Labelled(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _CounterWithKind(Protocol):
    def labels(self, *, kind: str) -> _Labelled: ...


class MetricSink:
    """Counts alerts raised by kind (``ALERTS_RAISED``): one per alert, not per signal it absorbed."""

    name = "metric"

    def __init__(self, counter: _CounterWithKind) -> None:
        self._counter = counter

    async def send(self, alert: dict[str, Any]) -> None:
        self._counter.labels(kind=str(alert["kind"])).inc()
