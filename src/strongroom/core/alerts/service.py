"""The alert service: runs the detector in one process and hands new alerts to the sinks.

It lives in exactly one process per node (the supervisor of a multi-process
server, the server itself in single-process mode), so bursts are counted once
however many workers served them.

An alert goes to every sink once, ``notify_delay`` seconds after it opened:
the delay lets a burst already under way collect into that one notification
(the count it carries is the count at that moment; ``sys/alerts`` keeps
showing the live count). Each sink runs on its own, so a webhook retrying
for a minute delays neither the log line nor the metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from strongroom.core.alerts.detector import Detector
from strongroom.core.alerts.model import Alert
from strongroom.core.alerts.signals import Signal
from strongroom.core.alerts.sinks import Sink

log = logging.getLogger("strongroom.alerts")

#: Deliveries waiting or running at once; past this, new alerts are still listed but not sent.
MAX_PENDING = 1000


class AlertService:
    def __init__(
        self,
        detector: Detector,
        sinks: Sequence[Sink],
        *,
        notify_delay: float = 2.0,
    ) -> None:
        self.detector = detector
        self.sinks = list(sinks)
        self.notify_delay = notify_delay
        self._pending: set[asyncio.Task[None]] = set()
        self._flushing = asyncio.Event()

    def submit(self, signal: Signal) -> None:
        """Feed one signal (from any coroutine of this process's loop). Never raises."""
        try:
            alert = self.detector.process(signal)
            if alert is not None:
                self._schedule(alert)
        except Exception:
            log.exception("alert detector failed on a %s signal", signal.kind)

    def submit_json(self, raw: Any) -> int:
        """Feed signals as they crossed the worker channel; malformed ones are skipped. Answers how many counted."""
        taken = 0
        for item in raw if isinstance(raw, list) else []:
            signal = Signal.from_json(item)
            if signal is not None:
                self.submit(signal)
                taken += 1
        return taken

    def recent(self, *, kind: str = "", limit: int = 100) -> list[dict[str, Any]]:
        return [alert.to_json() for alert in self.detector.recent(kind=kind, limit=limit)]

    def _schedule(self, alert: Alert) -> None:
        if len(self._pending) >= MAX_PENDING:
            log.error("alert %s (%s) not sent: %d deliveries pending", alert.id, alert.kind, len(self._pending))
            return
        task = asyncio.get_running_loop().create_task(self._deliver(alert))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, alert: Alert) -> None:
        if self.notify_delay > 0 and not self._flushing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flushing.wait(), self.notify_delay)
        alert.notified = True
        snapshot = alert.to_json()
        results = await asyncio.gather(*(sink.send(snapshot) for sink in self.sinks), return_exceptions=True)
        for sink, result in zip(self.sinks, results, strict=True):
            if isinstance(result, BaseException):
                log.error("alert sink %s failed for alert %s: %s", sink.name, alert.id, type(result).__name__)

    async def flush(self, limit_seconds: float = 10.0) -> None:
        """Deliver what is waiting now and wait for deliveries under way (at shutdown), at most ``limit_seconds``."""
        self._flushing.set()
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=limit_seconds)
        for task in late:
            task.cancel()
        if late:
            log.error("%d alert deliveries did not finish before shutdown", len(late))
