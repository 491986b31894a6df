"""Getting signals to the detector: request observers for workers and for the single process.

A worker does not judge anything itself; counting per worker would miss a
burst spread over N workers. :class:`SignalForwarder` picks the few records
that carry a signal (most carry none), queues them, and sends them to the
supervisor in batches from a background task: the request that produced a
signal never waits for the channel. The queue is bounded; if the supervisor
cannot keep up, the oldest queued signals are dropped and the drop is logged.

:class:`LocalSignals` feeds a detector in the same process directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.core.alerts.service import AlertService
from strongroom.core.alerts.signals import Signal, from_record
from strongroom.core.hooks import RequestRecord

log = logging.getLogger("strongroom.alerts")

Send = Callable[[list[dict[str, Any]]], Awaitable[None]]


class SignalForwarder:
    """A RequestObserver (and a ``report`` destination) that ships signals to another process."""

    def __init__(
        self,
        send: Send,
        *,
        clock: Callable[[], float] = time.time,
        flush_interval: float = 0.05,
        max_batch: int = 256,
        max_queue: int = 10_000,
    ) -> None:
        self._send = send
        self._clock = clock
        self._interval = flush_interval
        self._max_batch = max_batch
        self._queue: deque[dict[str, Any]] = deque()
        self._max_queue = max_queue
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def observe(self, record: RequestRecord) -> None:
        signal = from_record(record, self._clock())
        if signal is not None:
            self.push(signal)

    def push(self, signal: Signal) -> None:
        """Queue one signal for the next batch. Cheap; never raises, never waits."""
        self._queue.append(signal.to_json())
        if len(self._queue) > self._max_queue:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("alert signals dropped: the detector is not keeping up (%d so far)", self.dropped)
        if self._task is None or self._task.done():
            # Without a running loop (a tool, a test) the next push from a loop sends the queue.
            with contextlib.suppress(RuntimeError):
                self._task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._interval)
        await self.flush()

    async def flush(self) -> None:
        """Send everything queued now, in batches. A failed batch is logged and dropped."""
        while self._queue:
            count = min(self._max_batch, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            failure = ""
            try:
                await self._send(batch)
            except Exception as exc:
                failure = type(exc).__name__
            if failure:
                log.error("could not forward %d alert signals: %s", len(batch), failure)
                return


class LocalSignals:
    """A RequestObserver that hands signals to an alert service in this same process."""

    def __init__(self, service: AlertService, *, clock: Callable[[], float] = time.time) -> None:
        self._service = service
        self._clock = clock

    def observe(self, record: RequestRecord) -> None:
        signal = from_record(record, self._clock())
        if signal is not None:
            self._service.submit(signal)
