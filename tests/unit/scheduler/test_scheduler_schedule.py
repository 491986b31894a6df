"""``sdk.scheduling.Schedule`` (interval or cron, UTC) and the one background loop that ticks every job kind."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from strongroom.core.scheduler.runner import run_ticks
from strongroom.errors import InvalidRequest
from strongroom.sdk.scheduling import Schedule

MIDNIGHT = datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC).timestamp()


def test_an_interval_counts_from_the_given_time() -> None:
    assert Schedule.parse(interval=90).next_after(1000.0) == 1090.0


def test_a_cron_schedule_answers_the_next_matching_minute_strictly_after_now_in_utc() -> None:
    daily = Schedule.parse(cron=" 30 2 * * * ")
    assert daily.cron == "30 2 * * *"
    assert daily.next_after(MIDNIGHT) == MIDNIGHT + 2.5 * 3600
    assert daily.next_after(MIDNIGHT + 2.5 * 3600) == MIDNIGHT + 2.5 * 3600 + 86400  # strictly after
    assert daily.next_after(MIDNIGHT + 2.5 * 3600 - 0.5) == MIDNIGHT + 2.5 * 3600
    assert daily.describe() == {"cron": "30 2 * * *"}


@pytest.mark.parametrize(
    ("interval", "cron", "message"),
    [(0, "", "exactly one"), (60, "* * * * *", "exactly one"), (-5, "", "at least"),
     (0, "* * * * * *", "five fields"), (0, "99 * * * *", "invalid cron"), (0, "@reboot", "invalid cron")],
)
def test_bad_schedules_are_400s(interval: int, cron: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        Schedule.parse(interval=interval, cron=cron)


def test_the_loop_ticks_every_kind_skips_while_sealed_and_survives_a_failing_tick() -> None:
    async def scenario() -> tuple[list[str], int]:
        seen: list[str] = []
        stop = asyncio.Event()
        asked = [0]

        def ready() -> bool:
            asked[0] += 1
            return asked[0] > 1  # sealed at the first tick

        async def broken() -> bool:
            seen.append("broken")
            raise RuntimeError("a tick failed")

        async def jobs() -> bool:
            seen.append("jobs")
            if seen.count("jobs") == 2:
                stop.set()
            return True

        await asyncio.wait_for(run_ticks([("leases", broken), ("jobs", jobs)], stop, ready=ready, interval=0.01), 5)
        return seen, asked[0]

    seen, asked = asyncio.run(scenario())
    assert seen == ["broken", "jobs", "broken", "jobs"]
    assert asked == 3
