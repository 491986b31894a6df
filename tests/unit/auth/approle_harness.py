"""Drive an AppRole mount directly (no HTTP, no core): in-memory storage and a manual clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from strongroom.auth.approle import AppRoleBackend
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
INVALID = (400, "invalid role or secret ID")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Mount:
    """One AppRole mount; several may share ``storage`` (as worker processes do) and ``clock``."""

    def __init__(self, storage: StorageBackend | None = None, clock: ManualClock | None = None) -> None:
        self.storage = storage or InmemBackend()
        self.clock = clock or ManualClock()
        self.ctx = BackendContext(storage=self.storage, system=SystemView(clock=self.clock, random_bytes=os.urandom),
                                  mount_point="auth/approle/", mount_accessor="auth_approle_0001")
        self.backend = AppRoleBackend(self.ctx)

    async def call(self, op: Operation, path: str, data: dict[str, Any] | None = None, *,
                   remote_addr: str = "192.0.2.10", login_locked: bool = False) -> Response | None:
        req = Request(operation=op, path=path, data=dict(data or {}), storage=self.storage, remote_addr=remote_addr,
                      mount_point=self.ctx.mount_point, mount_accessor=self.ctx.mount_accessor,
                      login_locked=login_locked)
        if op is U and await self.backend.existence(req) is False:
            req.operation = C
        return await self.backend.handle(req)

    async def data(self, op: Operation, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.call(op, path, body)
        assert response is not None
        assert response.data is not None
        return response.data

    async def role(self, name: str = "app", **fields: Any) -> str:
        """Create a role; returns its role ID."""
        await self.call(U, f"role/{name}", fields)
        return str((await self.data(R, f"role/{name}/role-id"))["role_id"])

    async def secret(self, name: str = "app", **fields: Any) -> dict[str, Any]:
        return await self.data(U, f"role/{name}/secret-id", fields)

    async def login(self, role_id: Any, secret_id: Any = None, **kwargs: Any) -> Response | None:
        body: dict[str, Any] = {}
        if role_id is not None:
            body["role_id"] = role_id
        if secret_id is not None:
            body["secret_id"] = secret_id
        return await self.call(U, "login", body, **kwargs)

    def raw(self) -> bytes:
        data: dict[str, bytes] = self.storage._data  # type: ignore[attr-defined]
        return b"\n".join([k.encode() for k in data] + list(data.values()))


def scenario(body: Callable[[Mount], Awaitable[None]]) -> None:
    async def main() -> None:
        mount = Mount()
        await mount.backend.setup()
        await body(mount)

    run(main())
