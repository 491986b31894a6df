"""Two Cores on one SQLite file run each due job exactly once; a restart mid-schedule loses and doubles nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from scheduler_harness import Recorder, factory
from tests.support.inprocess import InProcessServer
from tests.support.sqlite_cores import close_core, sqlite_core, tick_together

from strongroom.sdk.system import ManualClock


def _core(db: Path, clock: ManualClock, recorder: Recorder, first: InProcessServer | None = None) -> InProcessServer:
    """A Core over its own SQLite connection to ``db``, unsealed, the job engine registered and mounted."""

    def register(srv: InProcessServer) -> None:
        srv.core.registry.secrets["jobtest"] = factory(recorder)

    def mount(srv: InProcessServer) -> None:
        assert srv.request("POST", "sys/mounts/jobs", json={"type": "jobtest"}).status_code == 204

    return sqlite_core(db, clock, first=first, prepare=register, setup=mount)


def test_two_cores_sharing_one_sqlite_file_run_each_due_job_exactly_once(tmp_path: Path) -> None:
    clock, recorder = ManualClock(), Recorder()
    a = _core(tmp_path / "jobs.db", clock, recorder)
    b = _core(tmp_path / "jobs.db", clock, recorder, first=a)
    try:
        for i in range(30):
            writer = a if i % 2 else b
            assert writer.request("POST", f"jobs/jobs/j{i}", json={"every": 60 + (i % 3) * 30}).status_code == 204
        for _ in range(3):  # three rounds of due times, each worked off by both cores at once
            clock.advance(120)
            for _ in range(6):
                tick_together(a, b)
        counts = Counter(recorder.runs)
        assert len({name for name, _ in counts}) == 30
        assert set(counts.values()) == {1}  # no (job, due time) ran twice
        assert len(counts) == 90
    finally:
        close_core(b)
        close_core(a)


def test_a_restart_between_the_claim_and_the_run_loses_no_run(tmp_path: Path) -> None:
    clock, recorder = ManualClock(), Recorder()
    a = _core(tmp_path / "jobs.db", clock, recorder)
    a.request("POST", "jobs/jobs/rotate", json={"every": 600})
    uuid = a.request("GET", "sys/mounts").json()["data"]["jobs/"]["uuid"]
    clock.advance(600)
    claimed = a.run(a.core.scheduler._claim(uuid, "rotate"))  # a claims the run, then dies
    assert claimed is not None
    close_core(a)
    b = _core(tmp_path / "jobs.db", clock, recorder, first=a)
    try:
        b.run(b.core.scheduler.run_due())
        assert recorder.runs == []  # a's claim still holds
        clock.advance(b.core.scheduler.config.claim_seconds)
        b.run(b.core.scheduler.run_due())
        assert recorder.runs == [("rotate", claimed.due_at)]
        b.run(b.core.scheduler.run_due())
        assert len(recorder.runs) == 1
    finally:
        close_core(b)


def test_a_restart_between_the_run_and_its_bookkeeping_does_not_double_it(tmp_path: Path) -> None:
    clock, recorder = ManualClock(), Recorder()
    a = _core(tmp_path / "jobs.db", clock, recorder)
    a.request("POST", "jobs/jobs/rotate", json={"every": 600})
    uuid = a.request("GET", "sys/mounts").json()["data"]["jobs/"]["uuid"]
    clock.advance(600)
    claimed = a.run(a.core.scheduler._claim(uuid, "rotate"))
    assert claimed is not None
    backend = a.run(a.core._job_backend(uuid))
    a.run(backend.run_job(claimed.job()))  # the work is done, then the process dies before recording it
    close_core(a)
    assert len(recorder.runs) == 1
    b = _core(tmp_path / "jobs.db", clock, recorder, first=a)
    try:
        clock.advance(b.core.scheduler.config.claim_seconds)
        b.run(b.core.scheduler.run_due())  # runs the same due time again: the fence makes it a no-op
        assert recorder.runs == [("rotate", claimed.due_at)]
        job = b.run(b.core.scheduler.lookup(uuid, "rotate"))
        assert job is not None
        assert job.due_at == clock() + 600  # and the schedule goes on
    finally:
        close_core(b)


def test_pending_jobs_fire_after_a_restart_and_disabling_the_mount_drops_them(tmp_path: Path) -> None:
    clock, recorder = ManualClock(), Recorder()
    a = _core(tmp_path / "jobs.db", clock, recorder)
    a.request("POST", "jobs/jobs/x", json={"every": 60})
    uuid = a.request("GET", "sys/mounts").json()["data"]["jobs/"]["uuid"]
    close_core(a)
    clock.advance(3600)  # down for sixty periods
    b = _core(tmp_path / "jobs.db", clock, recorder, first=a)
    try:
        for _ in range(3):
            b.run(b.core.scheduler.run_due())
        assert [name for name, _ in recorder.runs] == ["x"]
        assert b.request("DELETE", "sys/mounts/jobs").status_code == 204
        assert b.run(b.core.scheduler.jobs_of(uuid)) == []
    finally:
        close_core(b)
