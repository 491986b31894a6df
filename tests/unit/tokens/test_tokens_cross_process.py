"""Two token stores over one storage, as two worker processes, with the other worker acting at the worst moment.

Worker B is an ordinary store; worker A shares its storage through a wrapper
that lets B finish a whole operation right before A's next conditional write
of a token entry, that is, after A read the entry and before A writes it. Each
scenario runs over in-memory storage and over two SQLite connections to one
file (two workers' own connections, so the precondition is checked by SQLite).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tokens_harness import run

from strongroom.core.tokens.entry import REVOCATION_PENDING, TokenSpec
from strongroom.core.tokens.records import ID_PREFIX
from strongroom.core.tokens.store import TokenStore
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend
from strongroom.storage.sqlite import SQLiteBackend

BACKENDS = ["inmem", "sqlite"]


class OtherWorkerFirst(StorageBackend):
    """Runs ``hook`` once, just before the next conditional transaction that writes a token entry."""

    def __init__(self, inner: StorageBackend) -> None:
        self.inner = inner
        self.hook: Callable[[], Awaitable[Any]] | None = None

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        return await self.inner.get_with_version(key)

    async def put(self, key: str, value: bytes) -> None:
        await self.inner.put(key, value)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def list(self, prefix: str) -> list[str]:
        return await self.inner.list(prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        writes_entry = any(op.key.startswith(ID_PREFIX) and op.value is not None for op in ops)
        if self.hook is not None and preconditions and writes_entry:
            hook, self.hook = self.hook, None
            await hook()
        await self.inner.transaction(ops, preconditions)


@dataclass
class Workers:
    a: TokenStore
    b: TokenStore
    racing: OtherWorkerFirst
    storage: StorageBackend  # what worker B writes through
    system: SystemView

    def before_a_writes(self, hook: Callable[[], Awaitable[Any]]) -> None:
        self.racing.hook = hook

    def assert_raced(self) -> None:
        assert self.racing.hook is None, "worker B never ran: nothing raced"


@asynccontextmanager
async def two_workers(kind: str, workdir: Path) -> AsyncIterator[Workers]:
    clock = ManualClock()
    system = SystemView(clock=clock)
    if kind == "inmem":
        shared = InmemBackend()
        for_a, for_b = shared, shared
    else:
        for_a, for_b = SQLiteBackend(str(workdir / "t.db")), SQLiteBackend(str(workdir / "t.db"))
    await for_a.open()
    await for_b.open()
    try:
        racing = OtherWorkerFirst(for_a)
        b = TokenStore(for_b, clock=clock, random_bytes=system.random_bytes)
        await b.setup()
        a = TokenStore(racing, clock=clock, random_bytes=system.random_bytes)
        yield Workers(a, b, racing, for_b, system)
    finally:
        await for_a.close()
        await for_b.close()


async def limited_token(workers: Workers, uses: int) -> str:
    _, root = await workers.b.create_root()
    token, _ = await workers.b.create(TokenSpec(policies=("dev",), num_uses=uses), creator=root, system=workers.system)
    return token


async def token_entries(storage: StorageBackend) -> list[str]:
    return await storage.list(ID_PREFIX)


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("operation", ["renew", "use"])
def test_a_rewrite_racing_a_revocation_in_another_worker_never_resurrects(
    kind: str, operation: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            token = await limited_token(w, uses=5)
            seen_by_a = await w.a.lookup(token)
            assert seen_by_a is not None
            entries_before = await token_entries(w.storage)

            async def revoke_in_b() -> None:
                victim = await w.b.lookup(token)
                assert victim is not None
                await w.b.revoke_tree(victim)

            w.before_a_writes(revoke_in_b)
            if operation == "renew":
                with pytest.raises(InvalidRequest, match="token not found"):
                    await w.a.renew(seen_by_a, 60, system=w.system)
            else:
                with pytest.raises(PermissionDenied):
                    await w.a.use(seen_by_a)
            w.assert_raced()
            assert await w.a.lookup(token) is None
            assert await w.b.lookup(token) is None
            assert len(await token_entries(w.storage)) == len(entries_before) - 1

    run(scenario())


@pytest.mark.parametrize("kind", BACKENDS)
def test_two_workers_spending_the_last_use_at_once_let_exactly_one_win(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            token = await limited_token(w, uses=1)
            seen_by_a = await w.a.lookup(token)
            seen_by_b = await w.b.lookup(token)
            assert seen_by_a is not None
            assert seen_by_b is not None
            b_result: list[bool] = []

            async def use_in_b() -> None:
                b_result.append(await w.b.use(seen_by_b))

            w.before_a_writes(use_in_b)
            with pytest.raises(PermissionDenied):
                await w.a.use(seen_by_a)
            w.assert_raced()
            assert b_result == [True]

    run(scenario())


@pytest.mark.parametrize("kind", BACKENDS)
def test_uses_spent_in_two_workers_at_once_are_all_counted(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            token = await limited_token(w, uses=5)
            seen = await w.a.lookup(token)
            assert seen is not None

            async def use_in_b() -> None:
                assert await w.b.use(seen) is False

            w.before_a_writes(use_in_b)
            assert await w.a.use(seen) is False
            w.assert_raced()
            current = await w.b.lookup(token)
            assert current is not None
            assert current.num_uses == 3

    run(scenario())


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_renewal_racing_a_use_in_another_worker_keeps_both(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            token = await limited_token(w, uses=5)
            seen = await w.a.lookup(token)
            assert seen is not None

            async def use_in_b() -> None:
                await w.b.use(seen)

            w.before_a_writes(use_in_b)
            renewed = await w.a.renew(seen, 600, system=w.system)
            w.assert_raced()
            current = await w.b.lookup(token)
            assert current is not None
            assert current.num_uses == 4
            assert current.expire_time == renewed.expire_time == w.system.clock() + 600

    run(scenario())


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_revocation_racing_a_last_use_still_revokes(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            token = await limited_token(w, uses=1)
            seen = await w.a.lookup(token)
            assert seen is not None

            async def use_in_b() -> None:
                assert await w.b.use(seen) is True

            w.before_a_writes(use_in_b)  # A's first entry write is the revocation mark
            await w.a.revoke_tree(seen)
            w.assert_raced()
            assert await w.b.lookup(token, include_pending=True) is None
            after = await w.b.lookup_accessor(seen.accessor, include_pending=True)
            assert after is None

    run(scenario())


@pytest.mark.parametrize("kind", BACKENDS)
def test_minting_one_custom_id_in_two_workers_lets_one_win(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers(kind, tmp_path) as w:
            _, root = await w.b.create_root()
            spec = TokenSpec(policies=("dev",), token_id="custom-id")

            async def create_in_b() -> None:
                await w.b.create(spec, creator=root, system=w.system)

            w.before_a_writes(create_in_b)
            with pytest.raises(InvalidRequest, match="duplicate ID"):
                await w.a.create(spec, creator=root, system=w.system)
            w.assert_raced()
            assert len(await w.b.list_accessors()) == 2  # the root token and B's

    run(scenario())


def test_a_spent_last_use_is_visible_as_pending_to_the_other_worker(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with two_workers("sqlite", tmp_path) as w:
            token = await limited_token(w, uses=1)
            seen = await w.a.lookup(token)
            assert seen is not None
            assert await w.a.use(seen) is True
            pending = await w.b.lookup(token, include_pending=True)
            assert pending is not None
            assert pending.num_uses == REVOCATION_PENDING
            assert await w.b.lookup(token) is None

    asyncio.run(scenario())
