"""The node-wide barrier encryption count and the automatic keyring rotation, with two "processes"
(two barriers unsealed over one physical store, each with its own tracker)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from strongroom.core.metrics.barrier_usage import (
    CLAIM_TIMEOUT,
    MAX_OPERATIONS_CEILING,
    USAGE_KEY,
    BarrierUsage,
    UsageRecord,
)
from strongroom.crypto.barrier import Barrier
from strongroom.errors import Sealed
from strongroom.sdk.system import ManualClock
from strongroom.storage.inmem import InmemBackend
from tests.metrics.samples import local

T = TypeVar("T")
ROOT_KEY = bytes(range(32))


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


class Rotations:
    """Stands in for the seal manager: rotates the shared keyring through one barrier, counts calls."""

    def __init__(self, barrier: Barrier, *others: Barrier) -> None:
        self.barrier = barrier
        self.others = others
        self.calls = 0
        self.fail_with: Exception | None = None

    async def __call__(self) -> None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        await self.barrier.rotate()
        for other in self.others:  # the supervisor pushes the new term to every worker
            await other.reload_keyring()


async def two_processes() -> tuple[Barrier, Barrier]:
    physical = InmemBackend()
    await physical.open()
    first = Barrier(physical)
    await first.initialize(ROOT_KEY)
    await first.unseal(ROOT_KEY)
    second = Barrier(physical)
    await second.unseal(ROOT_KEY)
    return first, second


def tracker(
    barrier: Barrier, rotate: Callable[[], Awaitable[object]], *, limit: int = 1_000, clock: ManualClock | None = None
) -> BarrierUsage:
    return BarrierUsage(
        barrier, rotate, max_operations=limit, clock=clock or ManualClock(), random_bytes=os.urandom, flush_every=5
    )


async def seal_entries(barrier: Barrier, count: int, prefix: str = "k") -> None:
    for index in range(count):
        await barrier.put(f"data/{prefix}{index}", b"v")


async def stored(barrier: Barrier) -> UsageRecord:
    raw = await barrier.get(USAGE_KEY)
    assert raw is not None
    return UsageRecord.from_bytes(raw)


def test_two_processes_add_up_to_every_encryption_of_the_term() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        rotations = Rotations(first, second)
        one, two = tracker(first, rotations), tracker(second, rotations)
        await seal_entries(first, 7)
        await seal_entries(second, 4)
        await one.flush()
        await two.flush()
        record = await stored(first)
        # 11 entries plus the record's own two writes, each counted by the flush that made it.
        assert record == UsageRecord(term=1, encryptions=13)
        sealed_in_total = first.key_status().encryptions + second.key_status().encryptions
        assert record.encryptions == sealed_in_total

    run(scenario())


def test_an_idle_process_stores_nothing_new() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second))
        await seal_entries(first, 3)
        await usage.flush()
        before = first.key_status().encryptions
        for _ in range(5):
            await usage.flush()
        assert first.key_status().encryptions == before
        assert (await stored(first)).encryptions == 4

    run(scenario())


def test_the_estimate_adds_pending_seals_to_the_stored_count() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        rotations = Rotations(first, second)
        one, two = tracker(first, rotations), tracker(second, rotations)
        await seal_entries(second, 6)
        await two.flush()
        await one.flush()  # nothing of its own pending: reads the record, writes nothing
        await seal_entries(first, 2)
        assert one.estimate() == (1, 6 + 1 + 2)

    run(scenario())


def test_reaching_the_limit_rotates_once_even_when_both_processes_see_it() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        rotations = Rotations(first, second)
        one, two = tracker(first, rotations, limit=10), tracker(second, rotations, limit=10)
        await seal_entries(first, 6)
        await seal_entries(second, 6)
        await asyncio.gather(one.flush(), two.flush())
        assert rotations.calls == 1
        assert first.key_status().term == 2
        assert second.key_status().term == 2
        # The new term starts from zero: its first flush stores only what was sealed under it.
        await seal_entries(first, 2, prefix="after")
        record = await one.flush()
        assert record is not None
        assert record.term == 2
        assert record.encryptions <= 4

    run(scenario())


def test_rotation_is_counted_in_the_automatic_rotations_metric() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second), limit=3)
        before = local("strongroom_barrier_automatic_rotations_total")
        await seal_entries(first, 3)
        await usage.flush()
        assert local("strongroom_barrier_automatic_rotations_total") == before + 1

    run(scenario())


def test_a_failed_rotation_is_claimed_again_only_after_the_claim_expires() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        clock = ManualClock()
        rotations = Rotations(first, second)
        rotations.fail_with = Sealed()
        one = tracker(first, rotations, limit=3, clock=clock)
        two = tracker(second, rotations, limit=3, clock=clock)
        await seal_entries(first, 4)
        await one.flush()
        assert rotations.calls == 1
        await seal_entries(second, 1)
        await two.flush()
        assert rotations.calls == 1, "a fresh claim by another process must stop a second rotation"
        rotations.fail_with = None
        clock.advance(CLAIM_TIMEOUT)
        await seal_entries(second, 1, prefix="later")
        await two.flush()
        assert rotations.calls == 2
        assert first.key_status().term == 2

    run(scenario())


def test_the_shutdown_flush_stores_the_count_without_rotating() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        rotations = Rotations(first, second)
        usage = tracker(first, rotations, limit=3)
        await seal_entries(first, 5)
        await usage.close()
        assert rotations.calls == 0
        assert (await stored(first)).encryptions == 6

    run(scenario())


def test_the_count_survives_a_restart_of_every_process() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second))
        await seal_entries(first, 8)
        await usage.flush()
        restarted = Barrier(first.physical)
        await restarted.unseal(ROOT_KEY)
        fresh = tracker(restarted, Rotations(restarted))
        await seal_entries(restarted, 2, prefix="new")
        record = await fresh.flush()
        assert record == UsageRecord(term=1, encryptions=9 + 2 + 1)

    run(scenario())


def test_a_resealed_barrier_restarts_its_baseline_instead_of_going_negative() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second))
        await seal_entries(first, 8)
        await usage.flush()
        first.seal()
        assert await usage.flush() is None
        assert usage.estimate() is None
        await first.unseal(ROOT_KEY)
        await seal_entries(first, 2, prefix="again")
        record = await usage.flush()
        assert record == UsageRecord(term=1, encryptions=9 + 2 + 1)

    run(scenario())


def test_a_process_behind_on_the_keyring_does_not_overwrite_the_newer_term() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        one = tracker(first, Rotations(first))
        two = tracker(second, Rotations(second))
        await first.rotate()  # second has not reloaded its keyring
        await seal_entries(first, 2)
        await one.flush()
        await seal_entries(second, 5, prefix="stale")
        record = await two.flush()
        assert record == UsageRecord(term=2, encryptions=3)
        assert await stored(first) == record

    run(scenario())


def test_after_request_counts_new_encryptions_once_in_the_node_counter() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second))
        before = local("strongroom_barrier_encryptions_total")
        await seal_entries(first, 3)
        usage.after_request()
        usage.after_request()
        assert local("strongroom_barrier_encryptions_total") == before + 3

    run(scenario())


def test_after_request_starts_a_flush_once_enough_seals_are_pending() -> None:
    async def scenario() -> None:
        first, second = await two_processes()
        usage = tracker(first, Rotations(first, second))
        await seal_entries(first, 4)
        usage.after_request()
        await asyncio.sleep(0)
        assert await first.get(USAGE_KEY) is None, "4 pending is below flush_every=5"
        await seal_entries(first, 1, prefix="fifth")
        usage.after_request()
        await usage.close()
        assert (await stored(first)).encryptions == 6

    run(scenario())


@pytest.mark.parametrize("limit", [0, -1, MAX_OPERATIONS_CEILING + 1])
def test_limits_outside_the_safe_range_are_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="max_operations"):
        BarrierUsage(Barrier(InmemBackend()), Rotations(Barrier(InmemBackend())), max_operations=limit,
                     clock=ManualClock(), random_bytes=os.urandom)
