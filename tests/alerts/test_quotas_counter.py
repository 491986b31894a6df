"""The shared rate-limit table: fixed windows, blocks, bounded memory, and one count across processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from strongroom.core.quotas.counter import PROBE, SharedCounter, create_table_fd, key_digest, table_size
from strongroom.core.quotas.matching import exempt, rank, select
from strongroom.core.quotas.model import RateLimitQuota

ALICE = key_digest("quota-1", "10.0.0.1")
BOB = key_digest("quota-1", "10.0.0.2")


def hits(counter: SharedCounter, key: bytes, n: int, now: float, limit: int = 3, interval: float = 10.0,
         block: float = 0.0) -> list[bool]:
    return [counter.hit(key, limit=limit, interval=interval, block=block, now=now).allowed for _ in range(n)]


def test_a_client_gets_rate_requests_per_window_then_429_until_it_ends() -> None:
    counter = SharedCounter()
    assert hits(counter, ALICE, 5, now=100.0) == [True, True, True, False, False]
    refused = counter.hit(ALICE, limit=3, interval=10.0, block=0.0, now=104.0)
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert refused.reset == pytest.approx(6.0)
    fresh = counter.hit(ALICE, limit=3, interval=10.0, block=0.0, now=110.0)
    assert (fresh.allowed, fresh.remaining) == (True, 2)
    assert fresh.reset == pytest.approx(10.0)


def test_each_client_has_its_own_allowance() -> None:
    counter = SharedCounter()
    assert hits(counter, ALICE, 4, now=0.0) == [True, True, True, False]
    assert hits(counter, BOB, 3, now=0.0) == [True, True, True]


def test_a_block_interval_refuses_past_the_window_then_starts_afresh() -> None:
    counter = SharedCounter()
    assert hits(counter, ALICE, 4, now=0.0, interval=1.0, block=30.0) == [True, True, True, False]
    blocked = counter.hit(ALICE, limit=3, interval=1.0, block=30.0, now=5.0)
    assert not blocked.allowed
    assert blocked.reset == pytest.approx(25.0)
    assert hits(counter, ALICE, 4, now=30.5, interval=1.0, block=30.0) == [True, True, True, False]


def test_when_every_record_in_a_probe_range_is_live_the_oldest_window_is_taken_over() -> None:
    counter = SharedCounter(slots=PROBE)  # one probe range covers the whole table
    keys = [key_digest("q", f"10.9.0.{i}") for i in range(PROBE)]
    for i, key in enumerate(keys):
        hits(counter, key, 3, now=float(i), interval=1000.0)
    newcomer = key_digest("q", "10.9.9.9")
    assert hits(counter, newcomer, 4, now=50.0, interval=1000.0) == [True, True, True, False]
    # The oldest window (keys[0]) was the one reused: that client's count started again.
    assert hits(counter, keys[0], 1, now=51.0, interval=1000.0) == [True]
    assert hits(counter, keys[PROBE - 1], 1, now=51.0, interval=1000.0) == [False]


def test_a_table_of_the_wrong_size_is_refused() -> None:
    fd = create_table_fd(slots=8)
    try:
        with pytest.raises(ValueError, match="size"):
            SharedCounter(fd, slots=16)
    finally:
        os.close(fd)
    assert table_size(8) == 8 * 48


CHILD = """
import sys, time
from strongroom.core.quotas.counter import SharedCounter, key_digest
counter = SharedCounter(int(sys.argv[1]))
key = key_digest("quota-1", "10.0.0.1")
now = time.monotonic()
allowed = sum(counter.hit(key, limit=100, interval=3600.0, block=0.0, now=now).allowed for _ in range(300))
print(allowed)
"""


def test_processes_sharing_the_table_share_one_allowance() -> None:
    fd = create_table_fd()
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(fd)], pass_fds=[fd], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    assert sum(int(out) for out in outputs) == 100  # not 100 per process
    os.close(fd)


def quota(name: str, path: str) -> RateLimitQuota:
    return RateLimitQuota(name=name, path=path, rate=10, id=name)


def chosen(quotas: list[RateLimitQuota], path: str) -> str | None:
    found = select(quotas, path)
    return found.name if found else None


def test_the_most_specific_quota_applies() -> None:
    quotas = [quota("global", ""), quota("mount", "secret/"), quota("glob", "secret/data/app/*"),
              quota("exact", "secret/data/app/db")]
    assert chosen(quotas, "secret/data/app/db") == "exact"
    assert chosen(quotas, "secret/data/app/web") == "glob"
    assert chosen(quotas, "secret/metadata/app") == "mount"
    assert chosen(quotas, "sys/mounts") == "global"
    assert select(quotas[1:], "sys/mounts") is None


def test_equally_specific_quotas_resolve_by_name_on_every_worker() -> None:
    quotas = [quota("zeta", "secret/"), quota("alpha", "secret/")]
    assert chosen(quotas, "secret/data/x") == "alpha"
    assert chosen(list(reversed(quotas)), "secret/data/x") == "alpha"


def test_an_exact_quota_path_does_not_cover_its_neighbours() -> None:
    assert rank("secret/data/app", "secret/data/app") == (15, 2)
    assert rank("secret/data/app", "secret/data/app/") == (15, 2)  # LIST spelling
    assert rank("secret/data/app", "secret/data/apple") is None
    assert rank("secret/", "secrets/data") is None


def test_exempt_paths_are_exact_or_trailing_glob_prefixes() -> None:
    patterns = ["sys/health", "sys/internal/*"]
    assert exempt(patterns, "sys/health")
    assert exempt(patterns, "sys/internal/ui/mounts")
    assert not exempt(patterns, "sys/healthy")
    assert not exempt(patterns, "sys/mounts")
