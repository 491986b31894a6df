"""CPU time of a process tree, read from /proc (Linux only).

A server's CPU seconds per request are steadier than its requests per second on
a shared machine: they do not depend on how much CPU the load generator or a
neighbour took meanwhile.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue  # the thread ended meanwhile
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its living descendants."""
    pids = [pid]
    index = 0
    while index < len(pids):
        pids.extend(_children(pids[index]))
        index += 1
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads), 0.0 if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces; the fields after its closing ')' are fixed.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and every living descendant (a supervisor and its workers)."""
    return sum(cpu_seconds(p) for p in tree(pid))


def machine_busy_seconds() -> float:
    """CPU time spent by everything on the machine (all CPUs, excluding idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle - iowait) / _TICKS
