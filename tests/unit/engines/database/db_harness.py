"""The database engine over the REAL local PostgreSQL (127.0.0.1:5432, user postgres, trust auth) and
MariaDB (127.0.0.1:3306, root with an empty password; passwords are checked there).

``scripts/test`` starts both when they are not running; when they cannot be
reached these tests fail (they never skip). The engine runs with an egress
policy that allows loopback (the operator switch), a manual clock, an
expiration manager and a job scheduler, as the core would wire them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pymysql

from strongroom.core.leases import ExpirationManager
from strongroom.core.scheduler.scheduler import Scheduler
from strongroom.engines.database import DatabaseBackend
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.logical import BackendContext, Caller, LogicalBackend, Operation, Request, Response
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

R = TypeVar("R")
MOUNT = "database/"
PG_URL = "postgresql://{{username}}:{{password}}@127.0.0.1:5432/test"
MYSQL_URL = "{{username}}:{{password}}@tcp(127.0.0.1:3306)/test"
MYSQL_READER = [
    "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';",
    "GRANT SELECT ON test.db_engine_fixture TO '{{name}}'@'%';",
]
MOUNT_ID = "mount-database-1"
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
    scheduler: Scheduler

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

    async def configure_mysql(self, name: str = "my", **extra: Any) -> None:
        data = {"plugin_name": "mysql-database-plugin", "connection_url": MYSQL_URL, "username": "root",
                "password": "", "allowed_roles": ["*"], **extra}
        await self.call(Operation.UPDATE, f"config/{name}", data)

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

    async def by_uuid(mount: str) -> LogicalBackend | None:
        return engine if mount == MOUNT_ID else None

    scheduler = Scheduler(InmemBackend(), by_uuid, clock=clock, random_bytes=os.urandom)
    system.scheduler = scheduler.for_mount(MOUNT_ID)
    return DB(engine, manager, clock, system, scheduler)


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


def my_admin() -> pymysql.connections.Connection[Any]:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database="test",
                           autocommit=True, connect_timeout=5)


def ensure_mysql_fixture_table() -> None:
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS db_engine_fixture (v int)")
        cur.execute("INSERT INTO db_engine_fixture SELECT 7 FROM DUAL "
                    "WHERE NOT EXISTS (SELECT 1 FROM db_engine_fixture)")


def my_login(username: str, password: str, database: str | None = "test") -> pymysql.connections.Connection[Any]:
    return pymysql.connect(host="127.0.0.1", port=3306, user=username, password=password, database=database,
                           autocommit=True, connect_timeout=5)


def my_user_exists(username: str) -> bool:
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM mysql.user WHERE User = %s", (username,))
        return cur.fetchone() is not None


def my_users_like(prefix: str) -> set[str]:
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT User FROM mysql.user WHERE User LIKE %s", (prefix + "%",))
        return {str(row[0]) for row in cur.fetchall()}


def my_make_user(username: str, password: str, *extra_grants: str) -> None:
    """A fresh account ``username``@'%' (dropped first if a previous run left it)."""
    with my_admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER IF EXISTS %s@'%%'", (username,))
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (username, password))
        for grant in extra_grants:
            cur.execute(grant.replace("{{name}}", username))


def scram_matches(username: str, password: str) -> bool:
    """Whether PostgreSQL's stored SCRAM-SHA-256 verifier for ``username`` is that of ``password``.

    The local PostgreSQL trusts 127.0.0.1, so a login proves nothing about the password;
    the verifier is what the server checks a password against wherever it does.
    """
    with admin() as conn:
        row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (username,)).fetchone()
    assert row is not None
    assert row[0] is not None
    mechanism, rest = row[0].split("$", 1)
    assert mechanism == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
