"""The one job scheduler: persistent jobs of every mount, run exactly once per due time. See docs/rotation.md."""

from strongroom.core.scheduler.scheduler import MountJobs, Scheduler, SchedulerConfig

__all__ = ["MountJobs", "Scheduler", "SchedulerConfig"]
