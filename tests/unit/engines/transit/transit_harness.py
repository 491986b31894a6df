"""The transit test harness: drives the backend directly (no HTTP) over in-memory storage and a manual clock."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from strongroom.engines.transit import TransitBackend
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class Transit:
    """One transit mount. ``call`` runs one request to completion and returns the backend's answer."""

    def __init__(self, storage: StorageBackend | None = None, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock(start=1_800_000_000.0)
        self.storage = storage if storage is not None else InmemBackend()
        self.ctx = BackendContext(
            storage=self.storage,
            system=SystemView(clock=self.clock),
            mount_point="transit/",
            mount_accessor="transit_0001",
        )
        self.backend = TransitBackend(self.ctx)

    def call(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> Response | None:
        req = Request(operation=operation, path=path, data=dict(data or {}), storage=self.storage)
        return asyncio.run(self.backend.handle(req))

    def ok(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call and require a 200 answer with data; return that data."""
        response = self.call(operation, path, data)
        assert response is not None
        assert response.status is None, response.data
        assert response.data is not None
        return response.data

    def write(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.ok(Operation.UPDATE, path, data)

    def read(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.ok(Operation.READ, path, data)

    def create(self, name: str, **options: Any) -> dict[str, Any]:
        return self.write(f"keys/{name}", options)

    def encrypt(self, name: str, plaintext: bytes, **fields: Any) -> str:
        ciphertext: str = self.write(f"encrypt/{name}", {"plaintext": b64(plaintext), **fields})["ciphertext"]
        return ciphertext

    def decrypt(self, name: str, ciphertext: str, **fields: Any) -> bytes:
        return unb64(self.write(f"decrypt/{name}", {"ciphertext": ciphertext, **fields})["plaintext"])

    def rotate_due(self) -> list[str]:
        return asyncio.run(self.backend.rotate_due_keys())


async def _dump(storage: StorageBackend, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for child in await storage.list(prefix):
        if child.endswith("/"):
            found.update(await _dump(storage, prefix + child))
        else:
            value = await storage.get(prefix + child)
            assert value is not None
            found[prefix + child] = value
    return found


def contents(storage: StorageBackend) -> dict[str, bytes]:
    """Every key and value in ``storage``, walked through the public ``list`` and ``get``."""
    return asyncio.run(_dump(storage))
