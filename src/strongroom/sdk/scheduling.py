"""The scheduler seam: what a backend sees of the core's one job scheduler.

A backend that wants work done later (rotate a static role's password, rotate
a KV secret) schedules a :class:`Job` through ``self.ctx.system.scheduler``,
which is scoped to its mount: keys are unique within the mount, and a job of a
mount that is unmounted is dropped. When the job falls due, the core calls the
backend's :meth:`ScheduledBackend.run_job` in exactly one process among all
that share the storage (the due time is the fencing token of the claim; see
``docs/rotation.md``).

``run_job`` answers the next due time (the job is rescheduled there), or
``None`` (the job is finished and removed). Raising retries the same due time
with exponential backoff; :attr:`Job.attempt` counts the failures so far, so a
backend can record or give up. A job overdue by many periods (the server was
down) runs once, not once per missed period: ``run_job`` computes its next due
time from *now*, and :class:`Schedule` makes that easy.

Also here: :class:`Schedule`, an interval or a cron expression (UTC), parsed
and validated once, shared by every engine that takes a rotation schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from strongroom.errors import InvalidRequest


@dataclass(frozen=True)
class Job:
    """One scheduled job of one mount.

    ``key`` is unique within the mount (e.g. ``static-role/app``); ``due_at`` is
    epoch seconds (the fencing token of the run); ``payload`` is the backend's
    own JSON-able data. ``attempt`` counts the failed runs for this due time
    (0 on the first run) and ``last_error`` holds the last one's message.
    """

    key: str
    due_at: float
    payload: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class RotationOutcome:
    """One rotation attempt, reported for the core's metrics and alerts. Never a secret value.

    ``kind`` names what rotated (``kv``, ``database-static-role``, ``database-root``);
    ``subject`` its path relative to the mount; ``consecutive_failures`` counts the
    failures in a row including this one (0 on success): the core raises an alert
    once it reaches ``ROTATION_ALERT_AFTER``. ``error`` is a short, non-secret reason.
    """

    kind: str
    subject: str
    succeeded: bool
    consecutive_failures: int = 0
    error: str = ""


#: Failures in a row after which a rotation raises an alert.
ROTATION_ALERT_AFTER = 3


class JobScheduler(Protocol):
    """The core's scheduler as one mount sees it (``SystemView.scheduler``)."""

    async def schedule(self, key: str, due_at: float, payload: dict[str, Any] | None = None) -> None:
        """Create or replace the job ``key`` to run at ``due_at`` (resets its failure count)."""
        ...

    async def cancel(self, key: str) -> None:
        """Remove the job ``key``; a missing job is not an error."""
        ...

    async def lookup(self, key: str) -> Job | None:
        """The job ``key`` as stored, or ``None``."""
        ...

    def report_rotation(self, outcome: RotationOutcome) -> None:
        """Count a rotation attempt in the metrics; repeated failures raise an alert. Never raises or blocks."""
        ...


@runtime_checkable
class ScheduledBackend(Protocol):
    """A :class:`strongroom.sdk.logical.LogicalBackend` that runs its own scheduled jobs."""

    async def run_job(self, job: Job) -> float | None:
        """Do the work of ``job``; answer the next due time, or ``None`` when the job is finished.

        Raise to have the same run retried with backoff. Must tolerate running
        twice for one due time after a crash mid-way (the claim then lapses and
        another process retries), as lease revocation does.
        """
        ...


#: The shortest interval a schedule accepts: rotation every few seconds is a mistake, not a policy.
MIN_INTERVAL = 1


@dataclass(frozen=True)
class Schedule:
    """Either every ``interval`` seconds or at the times of a 5-field ``cron`` expression (UTC)."""

    interval: int = 0
    cron: str = ""

    @classmethod
    def parse(cls, *, interval: int = 0, cron: str = "") -> Schedule:
        """Validate: exactly one of ``interval`` (seconds, > 0) and ``cron``; a 400 otherwise."""
        cron = cron.strip()
        if bool(interval) == bool(cron):
            raise InvalidRequest("exactly one of a rotation interval and a cron schedule must be set")
        if interval:
            if interval < MIN_INTERVAL:
                raise InvalidRequest(f"rotation interval must be at least {MIN_INTERVAL} second")
            return cls(interval=interval)
        from croniter import croniter

        # Five fields only: croniter also takes seconds and years, which Vault's schedules do not.
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise InvalidRequest(f"invalid cron schedule {cron!r}: want five fields (minute hour day month weekday)")
        return cls(cron=cron)

    def next_after(self, now: float) -> float:
        """The first due time strictly after ``now``."""
        if self.interval:
            return now + self.interval
        from croniter import croniter

        start = datetime.fromtimestamp(math.floor(now), UTC)
        nxt: float = croniter(self.cron, start).get_next(float)
        return nxt

    def describe(self) -> dict[str, Any]:
        return {"interval": self.interval} if self.interval else {"cron": self.cron}
