"""Two workers' Cores over one storage: one failure counter between them, and no failure lost to a race."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.two_cores import TwoWorkers, two_workers
from userpass_harness import FAST

from strongroom.auth.userpass import UserpassBackend
from strongroom.auth.userpass.hashing import PasswordHashing
from strongroom.core.core import Core, IncomingRequest
from strongroom.errors import StrongroomError
from strongroom.sdk.logical import Operation

PASSWORD = "right-password"


async def call(core: Core, op: Operation, path: str, data: dict[str, Any] | None = None, token: str = "") -> int:
    try:
        outcome = await core.handle(IncomingRequest(op, path, dict(data or {}), token=token, remote_addr="192.0.2.1"))
    except StrongroomError as exc:
        return exc.status
    return outcome.status


async def prepared() -> TwoWorkers:
    workers = await two_workers()
    for core in (workers.a, workers.b):
        hashing = PasswordHashing(FAST)
        core.registry.auth["userpass"] = lambda ctx, h=hashing: UserpassBackend(ctx, hashing=h)
    await workers.unseal_b()
    root = workers.root_token
    assert await call(workers.a, Operation.UPDATE, "sys/auth/userpass", {"type": "userpass"}, root) == 204
    assert await call(workers.a, Operation.UPDATE, "auth/userpass/users/bob", {"password": PASSWORD}, root) == 204
    return workers


async def login(core: Core, name: str, password: str) -> int:
    return await call(core, Operation.UPDATE, f"auth/userpass/login/{name}", {"password": password})


def test_failures_through_two_workers_add_up_to_one_lock_seen_by_both() -> None:
    async def main() -> None:
        w = await prepared()
        for core in (w.a, w.b, w.a, w.b, w.a):
            assert await login(core, "bob", "wrong") == 400
        assert await login(w.a, "bob", PASSWORD) == 400
        assert await login(w.b, "BOB", PASSWORD) == 400

    asyncio.run(main())


def test_a_failure_recorded_by_another_worker_mid_write_is_not_lost() -> None:
    async def main() -> None:
        w = await prepared()
        for _ in range(3):
            assert await login(w.a, "bob", "wrong") == 400
        # Worker A fails once more right before worker B commits its own failure: B's write is
        # refused as stale, B counts again on top of A's, and the fifth failure locks.
        counter_keys = [k for k in await _keys(w, "sys/lockout/counter/") if k]
        assert len(counter_keys) == 1
        w.racing.before_write(counter_keys[0], lambda: login(w.a, "bob", "wrong"))
        assert await login(w.b, "bob", "wrong") == 400
        w.racing.assert_raced()
        assert await login(w.a, "bob", PASSWORD) == 400
        assert await login(w.b, "bob", PASSWORD) == 400

    asyncio.run(main())


def test_a_success_on_one_worker_resets_the_count_for_the_other() -> None:
    async def main() -> None:
        w = await prepared()
        for _ in range(4):
            assert await login(w.a, "bob", "wrong") == 400
        assert await login(w.b, "bob", PASSWORD) == 200
        for _ in range(4):
            assert await login(w.a, "bob", "wrong") == 400
        assert await login(w.a, "bob", PASSWORD) == 200

    asyncio.run(main())


def test_an_unlock_through_one_worker_frees_the_user_on_the_other() -> None:
    async def main() -> None:
        w = await prepared()
        for _ in range(5):
            await login(w.a, "bob", "wrong")
        accessor = next(e.accessor for e in w.a.mounts.entries("auth") if e.type == "userpass")
        path = f"sys/locked-users/{accessor}/unlock/bob"
        assert await call(w.b, Operation.UPDATE, path, {}, w.root_token) == 204
        assert await login(w.a, "bob", PASSWORD) == 200

    asyncio.run(main())


async def _keys(w: TwoWorkers, prefix: str) -> list[str]:
    found: list[str] = []
    for name in await w.racing.inner.list(prefix):
        if name.endswith("/"):
            found.extend(await _keys(w, prefix + name))
        else:
            found.append(prefix + name)
    return found
