"""The job scheduler: persistent jobs of every mount, each due run executed exactly once.

One per process (``Core.scheduler``); every mount sees it through
:class:`MountJobs`, scoped to the mount's uuid (``SystemView.scheduler``).

Exactly once. A run starts with a **claim**: the process rewrites the job with
its owner id and a claim deadline, conditional on the job as it read it, so of
several processes sharing storage one wins. Only the winner calls the backend's
``run_job``; it then moves the job to its next due time (or deletes it),
conditional on its claim still being there. A process that dies mid-run leaves a
claim that lapses after ``claim_seconds``; another process then runs the job
again with the **same due time**. That due time is the fencing token: a backend
whose effect must not repeat (KV rotation) records the due time it last served
in the same conditional write as its effect, and answers a repeated due time
without acting. So a crash loses no run and doubles none.

Failures retry the same due time with exponential backoff (``backoff_base``
doubling up to ``backoff_cap``), forever: the backend sees ``Job.attempt`` and
decides whether to give up (answer ``None``). Jobs of a mount that no longer
exists are dropped when they fall due (and at once when the mount is disabled).

Catch-up. The index is bucketed by minute like the lease expiry index, so a
tick lists only buckets that have begun. A tick runs at most ``batch`` due jobs,
one after the other; the runner comes back after a short pause while a backlog
remains, so a node that was down for a day works its overdue jobs off steadily
instead of firing them all at once. A job overdue by many periods runs once: the
backend computes its next due time from now (``Schedule.next_after``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strongroom.core import alerts
from strongroom.core.alerts.signals import ROTATION_FAILED
from strongroom.core.leases.schedule import DueIndex
from strongroom.core.metrics import rotation as metrics
from strongroom.core.scheduler.records import JobEntry, decode, encode, job_key
from strongroom.errors import StorageConflict, StrongroomError
from strongroom.sdk.logical import LogicalBackend
from strongroom.sdk.scheduling import ROTATION_ALERT_AFTER, Job, RotationOutcome, ScheduledBackend
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.scheduler")

#: The backend of the mount with this uuid, or None when no such mount exists (after a look at storage).
Resolver = Callable[[str], Awaitable[LogicalBackend | None]]


@dataclass(frozen=True)
class SchedulerConfig:
    claim_seconds: float = 120.0
    backoff_base: float = 10.0
    backoff_cap: float = 3600.0
    #: Due jobs run per tick: the spread of a catch-up after downtime.
    batch: int = 10


class Scheduler:
    """Jobs over ``storage`` (the barrier view of ``sys/scheduler/``). See the module docstring."""

    def __init__(
        self,
        storage: StorageBackend,
        resolve: Resolver,
        *,
        clock: Clock,
        random_bytes: RandomBytes,
        config: SchedulerConfig | None = None,
    ) -> None:
        self.storage = storage
        self.resolve = resolve
        self.clock = clock
        self.random_bytes = random_bytes
        self.config = config or SchedulerConfig()
        #: This process's identity in claims.
        self.owner = random_bytes(12).hex()
        self.index = DueIndex(storage)

    def __repr__(self) -> str:
        return f"Scheduler({self.storage!r})"

    def for_mount(self, mount: str, mount_point: str = "") -> MountJobs:
        return MountJobs(self, mount, mount_point)

    def report_rotation(self, mount_point: str, outcome: RotationOutcome) -> None:
        """Metrics for one rotation attempt; an alert once it failed ``ROTATION_ALERT_AFTER`` times in a row."""
        try:
            if outcome.succeeded:
                metrics.ROTATIONS.labels(outcome.kind, mount_point, "success").inc()
                metrics.LAST_SUCCESS.labels(outcome.kind, mount_point).set(self.clock())
                return
            metrics.ROTATIONS.labels(outcome.kind, mount_point, "failure").inc()
            metrics.ROTATION_FAILURES.labels(outcome.kind, mount_point).inc()
            if outcome.consecutive_failures >= ROTATION_ALERT_AFTER:
                alerts.report(ROTATION_FAILED, path=mount_point + outcome.subject, rotation=outcome.kind,
                              failures=str(outcome.consecutive_failures), error=outcome.error[:200])
        except Exception:  # a metric or an alert must never fail the rotation it describes
            log.exception("could not record a rotation outcome")

    # -- the mount-facing operations -------------------------------------------------------

    async def lookup(self, mount: str, key: str) -> JobEntry | None:
        raw = await self.storage.get(job_key(mount, key))
        return decode(raw) if raw is not None else None

    async def schedule(self, mount: str, key: str, due_at: float, payload: dict[str, Any] | None = None) -> None:
        """Create or replace a job (a live claim on the old one is dropped with it: the new schedule wins)."""
        entry = JobEntry(mount=mount, key=key, due_at=float(due_at), payload=dict(payload or {}))

        async def attempt() -> None:
            old, guard = await self._read(mount, key)
            await self._write(old, entry, guard)

        await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def cancel(self, mount: str, key: str) -> None:
        async def attempt() -> None:
            old, guard = await self._read(mount, key)
            if old is not None:
                await self.storage.transaction(_delete_ops(old), [guard])

        await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def jobs_of(self, mount: str) -> list[str]:
        """The keys of a mount's jobs."""
        return [bytes.fromhex(name).decode() for name in await self.storage.list(f"job/{mount}/")]

    async def drop_mount(self, mount: str) -> int:
        """Remove every job of a mount (it was disabled). Answers how many there were."""
        keys = await self.jobs_of(mount)
        for key in keys:
            await self.cancel(mount, key)
        return len(keys)

    # -- running ----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """One tick: run up to ``batch`` due jobs. Answers how many index entries were looked at."""
        due = await self.index.due(self.clock(), self.config.batch)
        for name in due:
            mount, _, key = name.partition("/")
            await self.run_one(mount, key)
        return len(due)

    async def run_one(self, mount: str, key: str) -> bool:
        """Run the job if it is due and nobody else holds it. True when this process ran it."""
        claimed = await self._claim(mount, key)
        if claimed is None:
            return False
        backend = await self.resolve(mount)
        if backend is None or not isinstance(backend, ScheduledBackend):
            log.warning("dropping scheduled job %r: its mount %s is gone or runs no jobs", key, mount)
            await self._finish(claimed, None)
            return False
        try:
            next_due = await backend.run_job(claimed.job())
        except Exception as exc:  # any failure: keep the job, retry the same due time later
            # Only the class name of a foreign error: its text may quote a credential.
            message = exc.message if isinstance(exc, StrongroomError) else type(exc).__name__
            await self._fail(claimed, message[:200])
            return True
        await self._finish(claimed, next_due)
        return True

    async def _claim(self, mount: str, key: str) -> JobEntry | None:
        async def attempt() -> JobEntry | None:
            entry, guard = await self._read(mount, key)
            now = self.clock()
            if entry is None or entry.run_at > now or entry.claimed_by_other(self.owner, now):
                return None
            claimed = entry.with_changes(claim_owner=self.owner, claim_until=now + self.config.claim_seconds)
            await self._write(entry, claimed, guard)
            return claimed

        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def _finish(self, claimed: JobEntry, next_due: float | None) -> None:
        """Move a job we ran to its next due time (or remove it), if our claim still stands."""
        if next_due is None:
            await self._settle(claimed, None)
        else:
            await self._settle(claimed, JobEntry(claimed.mount, claimed.key, float(next_due), dict(claimed.payload)))

    async def _fail(self, claimed: JobEntry, message: str) -> None:
        attempt_no = claimed.attempt + 1
        delay = min(self.config.backoff_base * 2 ** (attempt_no - 1), self.config.backoff_cap)
        log.warning("scheduled job %r of mount %s failed (attempt %d): %s",
                    claimed.key, claimed.mount, attempt_no, message)
        failed = claimed.with_changes(
            attempt=attempt_no, next_attempt=self.clock() + delay, last_error=message, claim_owner="", claim_until=0.0
        )
        await self._settle(claimed, failed)

    async def _settle(self, claimed: JobEntry, new: JobEntry | None) -> None:
        """Replace our claimed job by ``new`` (None: delete it), unless someone rescheduled it meanwhile."""

        async def attempt() -> None:
            entry, guard = await self._read(claimed.mount, claimed.key)
            if entry is None or (entry.claim_owner, entry.claim_until, entry.due_at) != (
                self.owner, claimed.claim_until, claimed.due_at
            ):
                # Rescheduled or cancelled while we ran (or our claim lapsed and another took it): theirs stands.
                log.info("scheduled job %r of mount %s changed while it ran", claimed.key, claimed.mount)
                return
            if new is None:
                await self.storage.transaction(_delete_ops(entry), [guard])
            else:
                await self._write(entry, new, guard)

        try:
            await retry_on_conflict(attempt, random_bytes=self.random_bytes)
        except StorageConflict:
            log.warning("scheduled job %r of mount %s: could not record its run", claimed.key, claimed.mount)

    # -- storage ----------------------------------------------------------------------------

    async def _read(self, mount: str, key: str) -> tuple[JobEntry | None, Precondition]:
        raw, version = await self.storage.get_with_version(job_key(mount, key))
        return (decode(raw) if raw is not None else None), Precondition(job_key(mount, key), version)

    async def _write(self, old: JobEntry | None, new: JobEntry, guard: Precondition) -> None:
        """Write ``new`` and move its index entry in one transaction, conditional on ``old`` as read."""
        ops = [TxnOp(job_key(new.mount, new.key), encode(new))]
        if old is None or old.due_key != new.due_key:
            ops.append(TxnOp(new.due_key, b""))
            if old is not None:
                ops.append(TxnOp(old.due_key, None))
        await self.storage.transaction(ops, [guard])

    async def tidy(self) -> int:
        """Drop index entries that name no job (left by a damaged store); answers how many."""
        dropped = 0
        stack = ["due/"]
        while stack:
            folder = stack.pop()
            for child in await self.storage.list(folder):
                if child.endswith("/"):
                    stack.append(folder + child)
                    continue
                mount, _, key = bytes.fromhex(child).decode().partition("/")
                entry = await self.lookup(mount, key)
                if entry is None or entry.due_key != folder + child:
                    await self.storage.delete(folder + child)
                    dropped += 1
        self.index.forget()
        return dropped


def _delete_ops(entry: JobEntry) -> list[TxnOp]:
    return [TxnOp(job_key(entry.mount, entry.key), None), TxnOp(entry.due_key, None)]


class MountJobs:
    """The scheduler as one mount sees it: :class:`strongroom.sdk.scheduling.JobScheduler`."""

    def __init__(self, scheduler: Scheduler, mount: str, mount_point: str) -> None:
        self._scheduler = scheduler
        self._mount = mount
        self._mount_point = mount_point

    def __repr__(self) -> str:
        return f"MountJobs({self._mount!r})"

    async def schedule(self, key: str, due_at: float, payload: dict[str, Any] | None = None) -> None:
        await self._scheduler.schedule(self._mount, key, due_at, payload)

    async def cancel(self, key: str) -> None:
        await self._scheduler.cancel(self._mount, key)

    async def lookup(self, key: str) -> Job | None:
        entry = await self._scheduler.lookup(self._mount, key)
        return entry.job() if entry is not None else None

    def report_rotation(self, outcome: RotationOutcome) -> None:
        self._scheduler.report_rotation(self._mount_point, outcome)
