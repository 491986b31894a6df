"""What the core offers a plug-in besides its storage: time, randomness, TTL defaults.

Clock and randomness are passed in (never read deep in logic) so TTLs and
rotation are testable without sleeping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from strongroom.sdk.events import EventOrigin, EventSink, MetadataValue

if TYPE_CHECKING:
    from strongroom.sdk.passwords import PasswordGenerator
    from strongroom.sdk.scheduling import JobScheduler


class Clock(Protocol):
    """Wall-clock seconds since the epoch."""

    def __call__(self) -> float: ...


def system_clock() -> float:
    return time.time()


class ManualClock:
    """A clock for tests: starts at ``start`` and moves only when told."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


RandomBytes = Callable[[int], bytes]


@dataclass
class SystemView:
    """Per-mount view of system settings. Mutable: ``sys/mounts/:path/tune`` updates it in place.

    ``default_lease_ttl`` and ``max_lease_ttl`` are in seconds; 0 means "use the system value".
    """

    system_default_lease_ttl: int = 32 * 24 * 3600
    system_max_lease_ttl: int = 32 * 24 * 3600
    mount_default_lease_ttl: int = 0
    mount_max_lease_ttl: int = 0
    clock: Clock = field(default=system_clock)
    random_bytes: RandomBytes = field(default=os.urandom)
    #: Passwords from ``sys/policies/password`` (see :mod:`strongroom.sdk.passwords`); set by the core.
    generate_password: PasswordGenerator | None = None
    #: Where published events go (the node's event log, see ``docs/events.md``); set by the core.
    event_sink: EventSink | None = None
    #: The mount this view belongs to, as events name it; set by the core.
    event_origin: EventOrigin | None = None

    def publish_event(self, event_type: str, path: str, metadata: Mapping[str, MetadataValue] | None = None) -> None:
        """Publish ``event_type`` (``kv-v2/data-write``) about ``path`` (the full request path,
        mount included, e.g. ``secret/data/app``) after the change is committed.

        Never blocks, never raises, and does nothing outside a core (unit tests of a backend
        alone). ``metadata`` must hold no secret value.
        """
        sink, origin = self.event_sink, self.event_origin
        if sink is not None and origin is not None:
            sink(origin, event_type, path, metadata or {})
    #: The core's job scheduler, scoped to this mount (see :mod:`strongroom.sdk.scheduling`); set by the core.
    scheduler: JobScheduler | None = None

    @property
    def default_lease_ttl(self) -> int:
        ttl = self.mount_default_lease_ttl or self.system_default_lease_ttl
        return min(ttl, self.max_lease_ttl)

    @property
    def max_lease_ttl(self) -> int:
        return self.mount_max_lease_ttl or self.system_max_lease_ttl
