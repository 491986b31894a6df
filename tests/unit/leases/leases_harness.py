"""A test-only secrets engine that issues leased "credentials" and records what was revoked.

``creds/<name>`` answers a fresh username with lease terms taken from the
request (``ttl``, ``max_ttl``, ``renewable``); ``revoke_secret`` appends the
username to ``Target.revoked`` unless ``Target.down`` is set, in which case it
fails as an unreachable database would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.support.inprocess import InProcessServer

from strongroom.core.leases import ExpirationManager, LeaseConfig
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import (
    BackendContext,
    LeaseOptions,
    LogicalBackend,
    Operation,
    Request,
    Response,
    SecretLease,
)
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

R = TypeVar("R")
MOUNT = "fake/"
RENEW_TTL = 600


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


class TargetDown(ConnectionError):
    """What the fake target system raises while it is down."""


@dataclass
class Target:
    """The system the fake engine creates users in."""

    revoked: list[str] = field(default_factory=list)
    down: bool = False
    issued: int = 0


class FakeEngine(FrameworkBackend):
    type_name = "leasetest"

    def __init__(self, ctx: BackendContext, target: Target) -> None:
        super().__init__(ctx)
        self.target = target

    def paths(self) -> list[Path]:
        fields = {"ttl": Field(T.DURATION, 0), "max_ttl": Field(T.DURATION, 0), "renewable": Field(T.BOOL, True)}
        return [Path("creds/(?P<name>.+)", {Operation.READ: self._creds, Operation.UPDATE: self._creds}, fields)]

    async def _creds(self, req: Request, f: FieldData) -> Response:
        self.target.issued += 1
        username = f"{f.get('name')}-{self.target.issued}"
        terms = LeaseOptions(ttl=f.get("ttl"), max_ttl=f.get("max_ttl"), renewable=f.get("renewable"),
                             internal={"username": username})
        return Response(data={"username": username}, secret=terms)

    async def revoke_secret(self, lease: SecretLease) -> None:
        if self.target.down:
            raise TargetDown("connection refused")
        self.target.revoked.append(str(lease.internal["username"]))

    async def renew_secret(self, lease: SecretLease, increment: int) -> LeaseOptions:
        return LeaseOptions(ttl=RENEW_TTL)


def factory(target: Target) -> Any:
    return lambda ctx: FakeEngine(ctx, target)


@dataclass
class Setup:
    manager: ExpirationManager
    engine: FakeEngine
    target: Target
    clock: ManualClock
    system: SystemView
    storage: StorageBackend


def make_setup(
    *, storage: StorageBackend | None = None, clock: ManualClock | None = None, target: Target | None = None,
    system_max: int = 86400, mount_max: int = 0, default_ttl: int = 3600, config: LeaseConfig | None = None,
) -> Setup:
    """An expiration manager over plain storage with one fake engine mounted at ``fake/``."""
    clock = clock or ManualClock()
    target = target or Target()
    storage = storage or InmemBackend()
    system = SystemView(system_default_lease_ttl=default_ttl, system_max_lease_ttl=system_max,
                        mount_max_lease_ttl=mount_max, clock=clock)
    engine = FakeEngine(BackendContext(storage=InmemBackend(), system=system, mount_point=MOUNT,
                                       mount_accessor="fake_1"), target)

    def resolve(mount: str) -> tuple[LogicalBackend, SystemView] | None:
        return (engine, system) if mount == MOUNT else None

    manager = ExpirationManager(storage, resolve, clock=clock, random_bytes=os.urandom, config=config)
    return Setup(manager, engine, target, clock, system, storage)


async def issue(s: Setup, name: str = "web", *, ttl: int = 0, max_ttl: int = 0, renewable: bool = True,
                token_hash: str = "") -> str:
    terms = LeaseOptions(ttl=ttl, max_ttl=max_ttl, renewable=renewable, internal={"username": name})
    entry = await s.manager.register(MOUNT, f"creds/{name}", terms, s.system, token_hash)
    return entry.lease_id


@contextlib.contextmanager
def leasing_server() -> Iterator[tuple[InProcessServer, Target, ManualClock]]:
    """An in-process server on a ManualClock with the fake leasing engine mounted at ``fake/``."""
    clock = ManualClock()
    srv = InProcessServer(clock=clock)
    target = Target()
    srv.core.registry.secrets["leasetest"] = factory(target)
    srv.init_and_unseal()
    assert srv.request("POST", "sys/mounts/fake", json={"type": "leasetest"}).status_code == 204
    try:
        yield srv, target, clock
    finally:
        srv.close()
