"""The job scheduler with a ManualClock: due runs, catch-up, backoff, cancel, dropped mounts, the index."""

from __future__ import annotations

import asyncio

from scheduler_harness import MOUNT_UUID, make_setup

from strongroom.core.scheduler import SchedulerConfig
from strongroom.sdk.scheduling import Job


def test_a_job_runs_when_due_and_moves_to_the_next_due_time() -> None:
    async def scenario() -> None:
        s = make_setup()
        jobs = s.scheduler.for_mount(MOUNT_UUID)
        start = s.clock()
        await jobs.schedule("a", start + 60, {"every": 60})
        s.clock.advance(59)
        await s.scheduler.run_due()
        assert s.recorder.runs == []
        s.clock.advance(1)
        await s.scheduler.run_due()
        assert s.recorder.runs == [("a", start + 60)]
        assert await jobs.lookup("a") == Job("a", start + 120, {"every": 60})
        await s.scheduler.run_due()  # not due again yet
        assert len(s.recorder.runs) == 1

    asyncio.run(scenario())


def test_a_job_overdue_by_many_periods_runs_once_then_keeps_its_period_from_now() -> None:
    async def scenario() -> None:
        s = make_setup()
        start = s.clock()
        await s.scheduler.schedule(MOUNT_UUID, "a", start + 60, {"every": 60})
        s.clock.advance(60 * 50)  # down for fifty periods
        for _ in range(5):
            await s.scheduler.run_due()
        assert s.recorder.runs == [("a", start + 60)]
        job = await s.scheduler.lookup(MOUNT_UUID, "a")
        assert job is not None
        assert job.due_at == s.clock() + 60

    asyncio.run(scenario())


def test_many_overdue_jobs_are_spread_over_ticks_not_fired_at_once() -> None:
    async def scenario() -> None:
        s = make_setup(config=SchedulerConfig(batch=10))
        start = s.clock()
        for i in range(25):
            await s.scheduler.schedule(MOUNT_UUID, f"job{i:02d}", start + 60 + i, {"every": 3600})
        s.clock.advance(7200)
        per_tick = []
        for _ in range(4):
            before = len(s.recorder.runs)
            await s.scheduler.run_due()
            per_tick.append(len(s.recorder.runs) - before)
        assert per_tick == [10, 10, 5, 0]
        assert sorted(k for k, _ in s.recorder.runs) == [f"job{i:02d}" for i in range(25)]

    asyncio.run(scenario())


def test_a_failing_job_is_retried_with_exponential_backoff_and_its_error_kept_without_text() -> None:
    async def scenario() -> None:
        s = make_setup(config=SchedulerConfig(backoff_base=10, backoff_cap=40))
        start = s.clock()
        await s.scheduler.schedule(MOUNT_UUID, "a", start + 60, {"every": 600})
        s.recorder.down = True
        s.clock.advance(60)
        await s.scheduler.run_due()
        job = await s.scheduler.lookup(MOUNT_UUID, "a")
        assert job is not None
        assert (job.attempt, job.next_attempt, job.due_at) == (1, s.clock() + 10, start + 60)
        # Only the class name of a foreign error: its text named a credential.
        assert job.last_error == "TargetDown"
        assert "hunter2" not in repr(job)
        delays = []
        for _ in range(4):
            before = await s.scheduler.lookup(MOUNT_UUID, "a")
            assert before is not None
            s.clock.advance(before.next_attempt - s.clock() - 1)
            await s.scheduler.run_due()  # one second early: nothing
            after_early = await s.scheduler.lookup(MOUNT_UUID, "a")
            assert after_early == before
            s.clock.advance(1)
            await s.scheduler.run_due()
            after = await s.scheduler.lookup(MOUNT_UUID, "a")
            assert after is not None
            delays.append(after.next_attempt - s.clock())
        assert delays == [20, 40, 40, 40]  # doubling, capped
        s.recorder.down = False
        s.clock.advance(40)
        await s.scheduler.run_due()
        assert s.recorder.runs == [("a", start + 60)]  # the same due time, served once it worked
        assert s.recorder.attempts_seen == [0, 1, 2, 3, 4, 5]
        done = await s.scheduler.lookup(MOUNT_UUID, "a")
        assert done is not None
        assert (done.attempt, done.last_error, done.due_at) == (0, "", s.clock() + 600)

    asyncio.run(scenario())


def test_finished_and_cancelled_jobs_leave_nothing_in_the_index() -> None:
    async def scenario() -> None:
        s = make_setup()
        jobs = s.scheduler.for_mount(MOUNT_UUID)
        await jobs.schedule("a", s.clock() + 10, {"every": 10})
        await jobs.schedule("a", s.clock() + 20, {"every": 10})  # an upsert moves its index entry
        await jobs.schedule("b", s.clock() + 10, {"every": 10})
        assert await s.scheduler.jobs_of(MOUNT_UUID) == sorted(["a", "b"])
        await jobs.cancel("a")
        await jobs.cancel("a")  # a missing job: no error
        assert await jobs.lookup("a") is None
        await jobs.cancel("b")
        assert await _index_entries(s.storage) == []
        assert await s.scheduler.tidy() == 0

    asyncio.run(scenario())


def test_a_job_whose_mount_is_gone_is_dropped_when_it_falls_due() -> None:
    async def scenario() -> None:
        s = make_setup()
        await s.scheduler.schedule(MOUNT_UUID, "a", s.clock() + 10, {"every": 10})
        await s.scheduler.schedule("other-mount", "b", s.clock() + 10, {"every": 10})
        s.clock.advance(10)
        await s.scheduler.run_due()
        assert s.recorder.runs == [("a", s.clock())]
        assert await s.scheduler.lookup("other-mount", "b") is None
        del s.mounted[MOUNT_UUID]
        s.clock.advance(10)
        await s.scheduler.run_due()
        assert await s.scheduler.lookup(MOUNT_UUID, "a") is None
        assert await _index_entries(s.storage) == []

    asyncio.run(scenario())


def test_drop_mount_removes_every_job_of_that_mount_only() -> None:
    async def scenario() -> None:
        s = make_setup()
        for name in ("a", "b", "c"):
            await s.scheduler.schedule(MOUNT_UUID, name, s.clock() + 10)
        await s.scheduler.schedule("other", "z", s.clock() + 10)
        assert await s.scheduler.drop_mount(MOUNT_UUID) == 3
        assert await s.scheduler.jobs_of(MOUNT_UUID) == []
        assert await s.scheduler.jobs_of("other") == ["z"]

    asyncio.run(scenario())


def test_rescheduling_a_job_while_it_runs_keeps_the_new_schedule() -> None:
    async def scenario() -> None:
        s = make_setup()
        jobs = s.scheduler.for_mount(MOUNT_UUID)
        await jobs.schedule("a", s.clock() + 10, {"every": 10})
        s.clock.advance(10)
        original = s.engine.run_job

        async def run_and_reschedule(job: Job) -> float | None:
            await jobs.schedule("a", s.clock() + 5000, {"every": 5000})  # a policy change lands mid-run
            return await original(job)

        s.engine.run_job = run_and_reschedule  # type: ignore[method-assign]
        await s.scheduler.run_due()
        job = await jobs.lookup("a")
        assert job is not None
        assert (job.due_at, job.payload) == (s.clock() + 5000, {"every": 5000})

    asyncio.run(scenario())


def test_tidy_drops_index_entries_of_no_job() -> None:
    async def scenario() -> None:
        s = make_setup()
        await s.scheduler.schedule(MOUNT_UUID, "a", s.clock() + 10)
        await s.storage.put("due/00000001/0000000060/" + f"{MOUNT_UUID}/ghost".encode().hex(), b"")
        assert await s.scheduler.tidy() == 1
        assert len(await _index_entries(s.storage)) == 1

    asyncio.run(scenario())


async def _index_entries(storage: object) -> list[str]:
    from strongroom.sdk.storage import StorageBackend

    assert isinstance(storage, StorageBackend)
    found, stack = [], ["due/"]
    while stack:
        folder = stack.pop()
        for child in await storage.list(folder):
            (stack.append if child.endswith("/") else found.append)(folder + child)
    return found
