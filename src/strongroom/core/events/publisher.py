"""The sink every mount's ``SystemView.publish_event`` calls: queue now, write in batches.

A KV write must not wait for its event: ``publish`` only builds the envelope and
appends it to a list. A task started by the first event of a batch waits
``FLUSH_DELAY`` seconds, then writes everything queued meanwhile as one log entry.
Under load that is one extra commit per ``FLUSH_DELAY`` per process rather than one
per write; the price is that delivery lags a change by that much.

Events are best effort, as in Vault: a batch that cannot be written (the node was
sealed meanwhile, storage failed) is logged by count and dropped; the change it
describes is committed regardless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from strongroom.core.events.envelope import envelope
from strongroom.core.events.log import EventLog
from strongroom.sdk.events import EventOrigin, MetadataValue

log = logging.getLogger("strongroom.events")

FLUSH_DELAY = 0.02
#: Pruning runs at most this often per process (from the flush task, so only where events are published).
PRUNE_EVERY = 30.0
#: Queued events beyond this are dropped (storage is stuck); the count is logged.
MAX_PENDING = 10_000


class EventPublisher:
    def __init__(self, event_log: EventLog) -> None:
        self.log = event_log
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0
        self.dropped = 0
        self.published = 0

    def publish(self, origin: EventOrigin, event_type: str, path: str, metadata: Mapping[str, MetadataValue]) -> None:
        """The ``EventSink``: never blocks, never raises into the request."""
        try:
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                return
            now = self.log.clock()
            event = envelope(origin, event_type, path, metadata, now=now, random_bytes=self.log.random_bytes)
            self._pending.append((now, event))
            self.published += 1
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._flush_later())
        except Exception:  # an event must never fail the change it reports
            log.exception("could not queue an event")

    async def flush(self) -> None:
        """Write what is queued now (shutdown, seal, tests)."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self.log.append(batch)
        except Exception as exc:
            self.dropped += len(batch)
            log.warning("dropped %d events: the event log could not be written (%s)", len(batch), type(exc).__name__)
            return
        now = self.log.clock()
        if now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            try:
                await self.log.prune()
            except Exception as exc:
                log.warning("event log pruning failed (%s)", type(exc).__name__)

    async def _flush_later(self) -> None:
        # Events queued while a batch is being written go in the next one, from this same task.
        while self._pending:
            await asyncio.sleep(FLUSH_DELAY)
            await self.flush()

    async def drain(self) -> None:
        """Wait for the batch in flight, then write anything still queued."""
        task = self._task
        if task is not None and not task.done():
            await task
        await self.flush()
