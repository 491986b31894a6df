"""A harness that drives the kv backend directly (no HTTP): in-memory storage and a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from strongroom.engines.kv import KVBackend
from strongroom.errors import StorageError
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend


class RecordingStorage(InmemBackend):
    """In-memory storage that records every write call and can be told to fail transactions."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.fail_transactions = False

    async def put(self, key: str, value: bytes) -> None:
        self.calls.append("put")
        await super().put(key, value)

    async def delete(self, key: str) -> None:
        self.calls.append("delete")
        await super().delete(key)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        self.calls.append("transaction")
        if self.fail_transactions:
            raise StorageError("transaction failed")
        await super().transaction(ops, preconditions)


async def dump(storage: StorageBackend, prefix: str = "") -> dict[str, bytes]:
    """Every key and value in ``storage`` (walked through the public ``list``)."""
    found: dict[str, bytes] = {}
    for child in await storage.list(prefix):
        if child.endswith("/"):
            found.update(await dump(storage, prefix + child))
        else:
            value = await storage.get(prefix + child)
            assert value is not None
            found[prefix + child] = value
    return found


class KV:
    """One kv mount. ``call`` runs a single request to completion and returns the backend's answer."""

    def __init__(self, version: str | None, storage: RecordingStorage | None = None) -> None:
        self.clock = ManualClock(start=1_800_000_000.0)
        self.storage = storage if storage is not None else RecordingStorage()
        options = {} if version is None else {"version": version}
        self.ctx = BackendContext(
            storage=self.storage,
            system=SystemView(clock=self.clock),
            mount_point="secret/",
            mount_accessor="kv_0001",
            options=options,
        )
        self.backend = KVBackend(self.ctx)

    def request(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> Request:
        return Request(operation=operation, path=path, data=dict(data or {}), storage=self.storage)

    def call(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> Response | None:
        return asyncio.run(self.backend.handle(self.request(operation, path, data)))

    def ok(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call and require a 200-style answer with data; return that data."""
        response = self.call(operation, path, data)
        assert response is not None
        assert response.status is None
        assert response.data is not None
        return response.data

    def exists(self, path: str) -> bool | None:
        return asyncio.run(self.backend.existence(self.request(Operation.UPDATE, path)))

    def contents(self) -> dict[str, bytes]:
        return asyncio.run(dump(self.storage))

    # KV v2 shorthands
    def put(self, path: str, data: dict[str, Any], **options: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"data": data}
        if options:
            body["options"] = options
        return self.ok(Operation.UPDATE, f"data/{path}", body)

    def get(self, path: str, version: int | None = None) -> Response | None:
        query = {} if version is None else {"version": str(version)}
        return self.call(Operation.READ, f"data/{path}", query)


@pytest.fixture
def kv1() -> KV:
    return KV("1")


@pytest.fixture
def kv2() -> KV:
    return KV("2")


@pytest.fixture
def recording_storage() -> type[RecordingStorage]:
    """The storage class the harness uses, for tests that need to subclass it."""
    return RecordingStorage


@pytest.fixture
def make_kv() -> type[KV]:
    """The harness class itself, for tests that need a mount with other options."""
    return KV
