"""Shared set-up for the token tests: an in-memory store, a manual clock, a system view."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from strongroom.core.tokens.backend import TokenBackend
from strongroom.core.tokens.entry import TokenEntry, TokenSpec
from strongroom.core.tokens.store import TokenStore
from strongroom.sdk.logical import BackendContext, Caller, Operation, Request
from strongroom.sdk.system import ManualClock, RandomBytes, SystemView
from strongroom.storage.inmem import InmemBackend

T = TypeVar("T")
DEFAULT_TTL = 3600
MAX_TTL = 7200


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Harness:
    storage: InmemBackend
    clock: ManualClock
    store: TokenStore
    system: SystemView

    def stored_values(self) -> list[bytes]:
        """Every key and value in storage, as bytes (to search for secrets)."""
        data: dict[str, bytes] = self.storage._data
        return [key.encode() for key in data] + list(data.values())

    def stored_keys(self) -> list[str]:
        return sorted(self.storage._data)

    async def root(self) -> tuple[str, TokenEntry]:
        return await self.store.create_root()

    async def child(
        self, parent: TokenEntry, *, orphan: bool = False, **spec: Any
    ) -> tuple[str, TokenEntry]:
        spec.setdefault("policies", ("default",))
        return await self.store.create(TokenSpec(**spec), creator=parent, system=self.system, orphan=orphan)

    async def alive(self, token: str) -> bool:
        return await self.store.lookup(token) is not None


def harness(
    *,
    default_ttl: int = DEFAULT_TTL,
    max_ttl: int = MAX_TTL,
    random_bytes: RandomBytes = os.urandom,
    clock: ManualClock | None = None,
) -> Harness:
    clock = clock or ManualClock()
    storage = InmemBackend()
    store = TokenStore(storage, clock=clock, random_bytes=random_bytes)
    system = SystemView(
        system_default_lease_ttl=default_ttl,
        system_max_lease_ttl=max_ttl,
        clock=clock,
        random_bytes=random_bytes,
    )
    return Harness(storage, clock, store, system)


class Api:
    """Calls the token backend the way the core does: caller, sudo and create-vs-update filled in."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.role_storage = InmemBackend()
        ctx = BackendContext(
            storage=self.role_storage,
            system=h.system,
            mount_point="auth/token/",
            mount_accessor="auth_token_1",
        )
        self.backend = TokenBackend(ctx, h.store)

    async def call(
        self,
        op: str,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        token: str = "",
        sudo: bool | None = None,
    ) -> Any:
        entry = await self.h.store.lookup(token, include_pending=True) if token else None
        policies = entry.policies if entry else ()
        req = Request(
            operation=Operation(op),
            path=path,
            data=dict(data or {}),
            client_token=token,
            caller=Caller(accessor=entry.accessor if entry else "", policies=tuple(policies)),
            sudo="root" in policies if sudo is None else sudo,
            mount_point="auth/token/",
        )
        if req.operation is Operation.UPDATE and await self.backend.existence(req) is False:
            req.operation = Operation.CREATE
        return await self.backend.handle(req)

    async def create(self, token: str, path: str = "create", **data: Any) -> tuple[str, Any]:
        """Create through the API; returns (new token, auth block)."""
        resp = await self.call("update", path, data, token=token)
        return resp.auth.client_token, resp.auth
