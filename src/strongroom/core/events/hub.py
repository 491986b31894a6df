"""One process's subscribers, fed by one task that tails the event log while anyone listens.

The tail task wakes every ``poll_interval`` seconds and does nothing unless
``storage.revision()`` moved (nobody wrote anything, so no new batch can exist): an
idle subscription costs one integer comparison per tick. Each subscriber has a
bounded queue; one that falls ``queue_size`` events behind is dropped (its stream is
closed with a reason) rather than buffered without bound.

Each subscription re-checks its token at most every ``RECHECK_SECONDS``: a revoked or
expired token ends the stream, and a policy change applies to the events after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from strongroom.core.events.envelope import event_path, event_type_of
from strongroom.core.events.filter_expr import FilterExpr, matches
from strongroom.core.events.log import EventLog, LoggedEvent, LogReader
from strongroom.errors import RateLimited

log = logging.getLogger("strongroom.events")

#: Whether the subscriber may see events about a path; ``None`` from a check: the token is gone.
PathCheck = Callable[[str], bool]
Authorizer = Callable[[], Awaitable[PathCheck | None]]

RECHECK_SECONDS = 1.0


class SubscriptionRefused(RateLimited):
    """Too many open subscriptions for one token on this process."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a subscriber asked for: an event-type glob (``*``, ``kv*``, ``kv-v2/data-write``)
    and optionally a path prefix (our extension, ``?path_prefix=secret/data/app/``) and a filter."""

    event_type: str
    path_prefix: str = ""
    #: The parsed ``filter`` parameter (``strongroom.core.events.filter_expr``).
    expression: FilterExpr = ()
    #: Only events of mounts in this namespace ('' the root): paths of other namespaces mean other things.
    namespace: str = ""

    def matches(self, event: dict[str, Any]) -> bool:
        if event["data"].get("namespace", "") != self.namespace:
            return False
        if not fnmatchcase(event_type_of(event), self.event_type):
            return False
        if self.path_prefix and not event_path(event).startswith(self.path_prefix):
            return False
        return matches(self.expression, event)


@dataclass(eq=False)
class Subscription:
    owner: str
    filter: EventFilter
    since: float
    authorizer: Authorizer
    check: PathCheck
    queue: asyncio.Queue[dict[str, Any] | None]
    checked_at: float
    closed_reason: str = ""
    _hub: EventHub | None = field(default=None, repr=False)

    async def next(self) -> dict[str, Any] | None:
        """The next event, or ``None`` once the stream ended (``closed_reason`` says why)."""
        if self.closed_reason:
            return None
        return await self.queue.get()

    def close(self, reason: str = "closed") -> None:
        if self.closed_reason:
            return
        self.closed_reason = reason
        # Queued events are discarded: a dropped consumer gets the end at once, not a backlog.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)
        if self._hub is not None:
            self._hub.forget(self)


class EventHub:
    def __init__(
        self,
        event_log: EventLog,
        *,
        max_per_token: int = 8,
        queue_size: int = 512,
        poll_interval: float = 0.1,
    ) -> None:
        self.log = event_log
        self.max_per_token = max_per_token
        self.queue_size = queue_size
        self.poll_interval = poll_interval
        self._subs: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriptions(self) -> int:
        return len(self._subs)

    async def open(self, owner: str, event_filter: EventFilter, authorizer: Authorizer) -> Subscription:
        """Register a subscriber. ``owner`` identifies its token (the limit counts per owner)."""
        if sum(1 for sub in self._subs if sub.owner == owner) >= self.max_per_token:
            raise SubscriptionRefused(
                f"too many event subscriptions for this token (at most {self.max_per_token} per server process)"
            )
        check = await authorizer()
        if check is None:
            raise RateLimited("token is no longer valid")  # not reached in practice: the caller just authenticated
        now = self.log.clock()
        sub = Subscription(
            owner=owner,
            filter=event_filter,
            since=now,
            authorizer=authorizer,
            check=check,
            queue=asyncio.Queue(maxsize=self.queue_size + 1),  # +1: room for the end marker
            checked_at=now,
            _hub=self,
        )
        self._subs.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._tail(now))
        return sub

    def forget(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def close_all(self, reason: str) -> None:
        for sub in list(self._subs):
            sub.close(reason)

    async def aclose(self, reason: str) -> None:
        """End every subscription and wait for the tail task to stop (seal, shutdown)."""
        self.close_all(reason)
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tail(self, since: float) -> None:
        reader = LogReader(self.log, since=since)
        revision: int | None = None
        while self._subs:
            current = self.log.storage.revision()
            if current is None or current != revision:
                revision = current
                try:
                    events = await reader.read_new()
                except Exception as exc:  # sealed meanwhile, storage trouble: try again next tick
                    log.warning("reading the event log failed (%s)", type(exc).__name__)
                    revision = None
                    events = []
                await self._deliver(events)
            await self._recheck()
            await asyncio.sleep(self.poll_interval)

    async def _deliver(self, events: list[LoggedEvent]) -> None:
        for item in events:
            for sub in list(self._subs):
                if item.published < sub.since or not sub.filter.matches(item.envelope):
                    continue
                if not sub.check(event_path(item.envelope)):
                    continue
                if sub.queue.qsize() >= self.queue_size:
                    log.info("dropped a slow event subscriber (%d events behind)", self.queue_size)
                    sub.close("slow consumer: too many undelivered events")
                    continue
                sub.queue.put_nowait(item.envelope)

    async def _recheck(self) -> None:
        now = self.log.clock()
        for sub in list(self._subs):
            if now - sub.checked_at < RECHECK_SECONDS:
                continue
            sub.checked_at = now
            try:
                check = await sub.authorizer()
            except Exception as exc:
                log.warning("re-checking an event subscriber failed (%s)", type(exc).__name__)
                continue
            if check is None:
                sub.close("token revoked or expired")
            else:
                sub.check = check
