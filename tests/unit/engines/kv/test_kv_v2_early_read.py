"""KV v2: a write reuses the metadata its existence check read, and never decides on it when it went stale.

The core runs the existence check (create or update?) before the ACL and the
write itself, on the same request. These tests drive the backend that way: one
``Request`` with a request id through ``existence`` and then ``handle``, with
other writers (another worker over the same storage, or this one) in between.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from strongroom.engines.kv.v2.engine import MAX_EARLY_READS
from strongroom.errors import CheckAndSetMismatch, InvalidRequest
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import Precondition, TxnOp

READ, UPDATE = Operation.READ, Operation.UPDATE
_ids = itertools.count(1)


@pytest.fixture
def storage(recording_storage: type[Any]) -> Any:
    class CountingStorage(recording_storage):
        def __init__(self) -> None:
            super().__init__()
            self.reads: dict[str, int] = {}
            self.refused = 0

        async def get(self, key: str) -> bytes | None:
            self.reads[key] = self.reads.get(key, 0) + 1
            return await super().get(key)

        async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
            try:
                await super().transaction(ops, preconditions)
            except Exception:
                self.refused += 1
                raise

    return CountingStorage()


def core_request(kv: Any, data: dict[str, Any], path: str = "data/app") -> Request:
    """A write request as the core builds it: with a request id."""
    req = kv.request(UPDATE, path, data)
    req.request_id = f"req-{next(_ids)}"
    return req


async def existence_then_write(kv: Any, req: Request) -> Response | None:
    await kv.backend.existence(req)
    return await kv.backend.handle(req)


def written_version(answer: Response | None) -> int:
    assert answer is not None
    assert answer.data is not None
    return int(answer.data["version"])


def version_of(kv: Any, path: str = "app") -> int:
    return int(kv.ok(READ, f"metadata/{path}")["current_version"])


def test_a_write_after_its_existence_check_reads_the_metadata_once(make_kv: type[Any], storage: Any) -> None:
    kv = make_kv("2", storage=storage)
    kv.put("app", {"v": "1"})
    storage.reads.clear()
    written = asyncio.run(existence_then_write(kv, core_request(kv, {"data": {"v": "2"}, "options": {"cas": 1}})))
    assert written_version(written) == 2
    assert storage.reads["meta/app"] == 1
    assert storage.refused == 0
    assert kv.ok(READ, "data/app")["data"] == {"v": "2"}


def test_a_new_secret_is_created_from_the_early_read(make_kv: type[Any], storage: Any) -> None:
    kv = make_kv("2", storage=storage)
    answer = asyncio.run(existence_then_write(kv, core_request(kv, {"data": {"v": "1"}, "options": {"cas": 0}})))
    assert written_version(answer) == 1
    assert storage.reads["meta/app"] == 1


def test_another_worker_writing_in_between_makes_the_write_read_again(make_kv: type[Any], storage: Any) -> None:
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    first.put("app", {"v": "1"})

    async def main() -> Response | None:
        req = core_request(first, {"data": {"by": "first"}})
        await first.backend.existence(req)  # reads version 1
        await second.backend.handle(core_request(second, {"data": {"by": "second"}}))
        return await first.backend.handle(req)

    answer = asyncio.run(main())
    assert written_version(answer) == 3  # after the other worker's version 2, not over it
    assert storage.refused == 1  # the early read's precondition failed; the fresh attempt committed
    assert first.ok(READ, "data/app", {"version": "2"})["data"] == {"by": "second"}
    assert first.ok(READ, "data/app", {"version": "3"})["data"] == {"by": "first"}


def test_check_and_set_is_judged_on_fresh_data_when_the_early_read_is_stale(make_kv: type[Any], storage: Any) -> None:
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    first.put("app", {"v": "1"})

    async def main() -> Response | None:
        # The client saw version 2 (written by the other worker) and asks for cas=2; the
        # existence check ran before that write landed and saw version 1.
        req = core_request(first, {"data": {"v": "3"}, "options": {"cas": 2}})
        await first.backend.existence(req)
        await second.backend.handle(core_request(second, {"data": {"v": "2"}}))
        return await first.backend.handle(req)

    answer = asyncio.run(main())
    assert written_version(answer) == 3
    assert first.ok(READ, "data/app")["data"] == {"v": "3"}


def test_a_stale_cas_still_fails_after_the_fresh_read(make_kv: type[Any], storage: Any) -> None:
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    first.put("app", {"v": "1"})

    async def main() -> Response | None:
        req = core_request(first, {"data": {"v": "lost"}, "options": {"cas": 1}})
        await first.backend.existence(req)
        await second.backend.handle(core_request(second, {"data": {"v": "2"}}))
        return await first.backend.handle(req)

    with pytest.raises(CheckAndSetMismatch):
        asyncio.run(main())
    assert version_of(first) == 2
    assert first.ok(READ, "data/app")["data"] == {"v": "2"}


def test_cas_required_is_enforced_on_fresh_data(make_kv: type[Any], storage: Any) -> None:
    first, second = make_kv("2", storage=storage), make_kv("2", storage=storage)
    first.put("app", {"v": "1"})

    async def main() -> Response | None:
        req = core_request(first, {"data": {"v": "2"}})
        await first.backend.existence(req)
        await second.backend.handle(second.request(UPDATE, "metadata/app", {"cas_required": True}))
        return await first.backend.handle(req)

    with pytest.raises(InvalidRequest, match="check-and-set parameter required"):
        asyncio.run(main())
    assert version_of(first) == 1


def test_a_writer_of_this_process_in_between_costs_no_refused_commit(make_kv: type[Any], storage: Any) -> None:
    kv = make_kv("2", storage=storage)
    kv.put("app", {"v": "1"})

    async def main() -> tuple[Response | None, Response | None]:
        one = core_request(kv, {"data": {"v": "one"}})
        two = core_request(kv, {"data": {"v": "two"}})
        await kv.backend.existence(one)
        await kv.backend.existence(two)  # both read version 1
        return await kv.backend.handle(one), await kv.backend.handle(two)

    one, two = asyncio.run(main())
    assert written_version(one) == 2
    assert written_version(two) == 3
    # The second write saw the lock released since its early read and read afresh.
    assert storage.refused == 0


def test_concurrent_writes_of_one_secret_lose_nothing(make_kv: type[Any], storage: Any) -> None:
    kv = make_kv("2", storage=storage)

    async def one(n: int) -> None:
        await existence_then_write(kv, core_request(kv, {"data": {"n": str(n)}}))

    async def main() -> None:
        await asyncio.gather(*(one(n) for n in range(20)))

    asyncio.run(main())
    assert version_of(kv) == 20


def test_early_reads_of_writes_that_never_came_are_dropped(make_kv: type[Any], storage: Any) -> None:
    kv = make_kv("2", storage=storage)
    kv.put("app", {"v": "1"})

    async def main() -> Response | None:
        first = core_request(kv, {"data": {"v": "2"}})
        await kv.backend.existence(first)
        for _ in range(MAX_EARLY_READS):  # writes the ACL refused, say: nobody takes their early read
            await kv.backend.existence(core_request(kv, {"data": {"v": "x"}}, path="data/other"))
        storage.reads.clear()
        return await kv.backend.handle(first)

    answer = asyncio.run(main())
    assert written_version(answer) == 2
    assert storage.reads["meta/app"] == 1  # its early read was dropped with the others: read afresh
