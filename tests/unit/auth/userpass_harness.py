"""Drive a userpass mount directly (no HTTP, no core): in-memory storage, a manual clock, cheap argon2 by default."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import argon2

from strongroom.auth.userpass import UserpassBackend
from strongroom.auth.userpass.hashing import Argon2Params, PasswordHashing
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
R, U, C, D, L = Operation.READ, Operation.UPDATE, Operation.CREATE, Operation.DELETE, Operation.LIST
#: Far below the production cost: unit tests verify behaviour, not the cost itself.
FAST = Argon2Params(time_cost=1, memory_cost=64, parallelism=1)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def params_of(phc_hash: str) -> str:
    """The cost parameters of a PHC string: ``m=...,t=...,p=...``."""
    return phc_hash.split("$")[3]


class CountingArgon2(argon2.PasswordHasher):
    """argon2-cffi's hasher, recording the parameters of every hash it verifies (the work it does)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The parameters of every hash verified, in order.
        self.verified: list[str] = []
        #: The hashes verified, in order (to tell the dummy from a user's).
        self.verified_hashes: list[str] = []
        #: Every hash made, in order.
        self.made: list[str] = []

    @property
    def hashed(self) -> int:
        return len(self.made)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        text = hash if isinstance(hash, str) else hash.decode()
        self.verified.append(params_of(text))
        self.verified_hashes.append(text)
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        made = super().hash(password, salt=salt)
        self.made.append(made)
        return made


def counting_hashing(params: Argon2Params = FAST) -> tuple[PasswordHashing, CountingArgon2]:
    hasher = CountingArgon2(time_cost=params.time_cost, memory_cost=params.memory_cost,
                            parallelism=params.parallelism, type=argon2.Type.ID)
    return PasswordHashing(hasher=hasher), hasher


class Mount:
    """One userpass mount. Build it inside the coroutine that uses it (its hashing binds to that loop)."""

    def __init__(self, *, hashing: PasswordHashing | None = None, storage: InmemBackend | None = None) -> None:
        self.storage = storage or InmemBackend()
        self.clock = ManualClock()
        self.ctx = BackendContext(storage=self.storage, system=SystemView(clock=self.clock),
                                  mount_point="auth/userpass/", mount_accessor="auth_userpass_0001")
        self.backend = UserpassBackend(self.ctx, hashing=hashing or PasswordHashing(FAST))

    async def call(self, op: Operation, path: str, data: dict[str, Any] | None = None, *,
                   remote_addr: str = "192.0.2.10", login_locked: bool = False) -> Response | None:
        req = Request(operation=op, path=path, data=dict(data or {}), storage=self.storage,
                      remote_addr=remote_addr, mount_point=self.ctx.mount_point,
                      mount_accessor=self.ctx.mount_accessor, login_locked=login_locked)
        if op is U and await self.backend.existence(req) is False:
            req.operation = C
        return await self.backend.handle(req)

    async def login(self, username: str, password: Any, **kwargs: Any) -> Response | None:
        body = {} if password is None else {"password": password}
        return await self.call(U, f"login/{username}", body, **kwargs)

    def raw_values(self) -> bytes:
        data: dict[str, bytes] = self.storage._data
        return b"\n".join([k.encode() for k in data] + list(data.values()))


def scenario(body: Callable[[Mount], Awaitable[None]], **kwargs: Any) -> None:
    """Run ``body`` against a fresh mount built inside the event loop."""

    async def main() -> None:
        mount = Mount(**kwargs)
        await mount.backend.setup()
        await body(mount)

    run(main())
