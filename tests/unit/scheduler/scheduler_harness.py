"""A test-only engine that schedules jobs and records every run, for the scheduler tests.

``jobs/<name>`` (UPDATE, ``every`` seconds) schedules a repeating job due
``every`` seconds from now. ``run_job`` records ``(name, due_at)`` in the shared
``Recorder`` (fails while ``Recorder.down``) and answers the next due time
counted from *now* (so an overdue job runs once). Like KV rotation it fences on
the due time: the last due time it served is kept in its mount storage, and a
second run for the same due time (after a crash between the run and the
scheduler's bookkeeping) does nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from strongroom.core.scheduler import Scheduler, SchedulerConfig
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, LogicalBackend, Operation, Request, Response
from strongroom.sdk.scheduling import Job
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

MOUNT_UUID = "mount-uuid-1"


class TargetDown(ConnectionError):
    """What a job raises while its target is down (its text must never reach the job's record)."""


@dataclass
class Recorder:
    runs: list[tuple[str, float]] = field(default_factory=list)
    attempts_seen: list[int] = field(default_factory=list)
    down: bool = False


class JobEngine(FrameworkBackend):
    type_name = "jobtest"

    def __init__(self, ctx: BackendContext, recorder: Recorder) -> None:
        super().__init__(ctx)
        self.recorder = recorder

    def paths(self) -> list[Path]:
        fields = {"every": Field(T.INT, 60)}
        return [Path("jobs/(?P<name>.+)", {Operation.UPDATE: self._schedule, Operation.DELETE: self._cancel}, fields)]

    @property
    def jobs(self) -> Any:
        assert self.ctx.system.scheduler is not None
        return self.ctx.system.scheduler

    async def _schedule(self, req: Request, f: FieldData) -> Response:
        every = f.get("every")
        await self.jobs.schedule(f.get("name"), self.ctx.system.clock() + every, {"every": every})
        return Response(status=204)

    async def _cancel(self, req: Request, f: FieldData) -> Response:
        await self.jobs.cancel(f.get("name"))
        return Response(status=204)

    async def run_job(self, job: Job) -> float | None:
        self.recorder.attempts_seen.append(job.attempt)
        if self.recorder.down:
            raise TargetDown("connection refused to db://admin:hunter2@target")
        fence = f"served/{job.key}"
        served = await self.ctx.storage.get(fence)
        if served is None or float(served) < job.due_at:
            self.recorder.runs.append((job.key, job.due_at))
            await self.ctx.storage.put(fence, repr(job.due_at).encode())
        return self.ctx.system.clock() + int(job.payload["every"])


def factory(recorder: Recorder) -> Any:
    return lambda ctx: JobEngine(ctx, recorder)


@dataclass
class Setup:
    scheduler: Scheduler
    engine: JobEngine
    recorder: Recorder
    clock: ManualClock
    storage: StorageBackend
    mounted: dict[str, LogicalBackend]


def make_setup(
    *, storage: StorageBackend | None = None, clock: ManualClock | None = None, recorder: Recorder | None = None,
    config: SchedulerConfig | None = None, engine_storage: StorageBackend | None = None,
) -> Setup:
    """A scheduler over plain storage with one job engine mounted (uuid ``MOUNT_UUID``)."""
    clock = clock or ManualClock()
    recorder = recorder or Recorder()
    storage = storage or InmemBackend()
    system = SystemView(clock=clock)
    engine = JobEngine(BackendContext(storage=engine_storage or InmemBackend(), system=system, mount_point="jobs/",
                                      mount_accessor="jobtest_1"), recorder)
    mounted: dict[str, LogicalBackend] = {MOUNT_UUID: engine}

    async def resolve(uuid: str) -> LogicalBackend | None:
        return mounted.get(uuid)

    scheduler = Scheduler(storage, resolve, clock=clock, random_bytes=os.urandom, config=config)
    system.scheduler = scheduler.for_mount(MOUNT_UUID)
    return Setup(scheduler, engine, recorder, clock, storage, mounted)
