"""A worker must not hold a mount table older than the generation it recorded.

Worker A enables a mount exactly when worker B reads the generation counter
while it unseals (see ``two_cores``). Whatever the interleaving, B must route
the new mount on its next request. (Found by the crash test: a worker that
became ready late answered 404 for a mount enabled while it loaded its tables.)
"""

from __future__ import annotations

import asyncio

from tests.integration.two_cores import two_workers

from strongroom.core.core import GENERATION_KEY, IncomingRequest
from strongroom.sdk.logical import Operation


async def write_through_b_after_a_enabled_a_mount_during_bs_unseal() -> int:
    workers = await two_workers()

    async def enable_through_a() -> None:
        await workers.a.mounts.enable("secret", "late", "kv", options={"version": "2"})

    workers.racing.before_read(GENERATION_KEY, enable_through_a)
    await workers.unseal_b()
    workers.racing.assert_raced()

    outcome = await workers.b.handle(
        IncomingRequest(Operation.UPDATE, "late/data/x", {"data": {"a": "b"}}, token=workers.root_token)
    )
    assert outcome.response is not None
    assert outcome.response.data is not None
    return int(outcome.response.data["version"])


def test_mount_enabled_while_another_worker_unseals_is_routed_by_that_worker() -> None:
    assert asyncio.run(write_through_b_after_a_enabled_a_mount_during_bs_unseal()) == 1
