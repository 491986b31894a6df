"""The database engine over the REAL local PostgreSQL (127.0.0.1:5432, user postgres, trust auth).

``scripts/test`` starts PostgreSQL when it is not running; when it cannot be
reached these tests fail (they never skip). The engine runs with an egress
policy that allows loopback (the operator switch), a manual clock and an
expiration manager, as the core would wire them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from strongroom.core.leases import ExpirationManager
from strongroom.engines.database import DatabaseBackend
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.logical import BackendContext, Caller, LogicalBackend, Operation, Request, Response
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

R = TypeVar("R")
MOUNT = "database/"
PG_URL = "postgresql://{{username}}:{{password}}@127.0.0.1:5432/test"
CREATE_READER = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    "GRANT SELECT ON db_engine_fixture TO \"{{name}}\";",
]


#: Engines made by make_db: their pools are closed at the end of every run (each run is a new event loop).
_ENGINES: list[DatabaseBackend] = []


def run(coro: Coroutine[Any, Any, R]) -> R:
    async def go() -> R:
        try:
            return await coro
        finally:
            for engine in _ENGINES:
                await engine.cleanup()

    return asyncio.run(go())


async def fake_password(policy: str = "") -> str:
    return "Pw-" + os.urandom(12).hex()


@dataclass
class DB:
    engine: DatabaseBackend
    manager: ExpirationManager
    clock: ManualClock
    system: SystemView

    async def call(self, op: Operation, path: str, data: dict[str, Any] | None = None) -> Response | None:
        req = Request(operation=op, path=path, data=data or {}, storage=self.engine.ctx.storage,
                      caller=Caller(display_name="token"), mount_point=MOUNT)
        resp = await self.engine.handle(req)
        if resp is not None and resp.secret is not None:
            await self.manager.register(MOUNT, path, resp.secret, self.system)
        return resp

    async def configure(self, **extra: Any) -> None:
        data = {"plugin_name": "postgresql-database-plugin", "connection_url": PG_URL, "username": "postgres",
                "password": "unused-with-trust", "allowed_roles": ["reader*"], **extra}
        await self.call(Operation.UPDATE, "config/pg", data)

    async def reader_role(self, name: str = "reader", **extra: Any) -> None:
        await self.call(Operation.UPDATE, f"roles/{name}",
                        {"db_name": "pg", "creation_statements": CREATE_READER, "default_ttl": "1h", **extra})

    async def creds(self, role: str = "reader") -> Response:
        resp = await self.call(Operation.READ, f"creds/{role}")
        assert resp is not None
        assert resp.secret is not None
        return resp


def make_db() -> DB:
    clock = ManualClock()
    system = SystemView(system_default_lease_ttl=3600, system_max_lease_ttl=86400, clock=clock,
                        generate_password=fake_password)
    ctx = BackendContext(storage=InmemBackend(), system=system, mount_point=MOUNT, mount_accessor="database_1")
    engine = DatabaseBackend(ctx, EgressPolicy(allow_loopback=True))
    _ENGINES[:] = [engine]

    def resolve(mount: str) -> tuple[LogicalBackend, SystemView] | None:
        return (engine, system) if mount == MOUNT else None

    manager = ExpirationManager(InmemBackend(), resolve, clock=clock, random_bytes=os.urandom)
    return DB(engine, manager, clock, system)


def admin() -> psycopg.Connection[Any]:
    return psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True, connect_timeout=5)


def ensure_fixture_table() -> None:
    with admin() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS db_engine_fixture (v int)")
        conn.execute("INSERT INTO db_engine_fixture SELECT 7 WHERE NOT EXISTS (SELECT 1 FROM db_engine_fixture)")


def login(username: str, password: str) -> psycopg.Connection[Any]:
    return psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user=username, password=password,
                           autocommit=True, connect_timeout=5)


def role_exists(username: str) -> bool:
    with admin() as conn:
        return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,)).fetchone() is not None
