"""The MySQL/MariaDB plugins (PyMySQL, run in worker threads): users created, locked, killed and dropped.

MySQL DDL commits on its own, so a failed ``creation_statements`` cannot be
rolled back as a transaction. Instead, on any error the role's
``rollback_statements`` run, then every account named like the new user that
exists is dropped: nothing is left half-created whatever the statements did to
accounts. Revocation locks the accounts first (no new session), kills the
user's sessions, then drops it.

``connection_url`` is Vault's (Go driver) form ``{{username}}:{{password}}@tcp(host:port)/dbname``;
only ``tcp`` is accepted, and the host goes through the egress check like every
outbound connection.

The five plugin names differ only in their username limits, which are Vault's:
``mysql-database-plugin`` allows 32 characters, the legacy/RDS/Aurora names 16.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

import pymysql
from pymysql.connections import Connection as MySQLConnection

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy, resolve_checked
from strongroom.sdk.system import Clock

from .config import PLUGIN_MYSQL, ConnectionConfig
from .plugin import CONNECT_TIMEOUT, DatabaseError, DatabasePlugin, scrub
from .pool import Pool
from .templates import UsernameRules, render_statement, split_statements
from .tls import client_context

R = TypeVar("R")
Connection = MySQLConnection

_DSN = re.compile(r"^(?:(?P<user>[^:@]*)(?::(?P<password>.*))?@)?tcp\((?P<host>\[[^\]]+\]|[^:()]+)(?::(?P<port>\d+))?\)"
                  r"/(?P<db>[^/?]*)(?:\?.*)?$", re.DOTALL)

#: Seconds a worker thread waits on a silent database before giving up (a hung server must not pin threads).
IO_TIMEOUT = 30

MODERN = UsernameRules("v-{{display_name}}-{{role}}-{{random 20}}-{{unix_time}}", 10, 10, 32)
LEGACY = UsernameRules("v-{{role}}-{{random 20}}", 4, 4, 16)


def parse_dsn(url: str) -> tuple[str, str, str, int, str]:
    """(user, password, host, port, database) of a Go-style DSN, placeholders still in it."""
    match = _DSN.match(url)
    if match is None:
        raise InvalidRequest("connection_url must look like {{username}}:{{password}}@tcp(host:port)/dbname")
    host = match.group("host").strip("[]")
    return (match.group("user") or "", match.group("password") or "", host, int(match.group("port") or 3306),
            match.group("db"))


class MySQL(DatabasePlugin):
    """The ``mysql-*-database-plugin`` family against MySQL or MariaDB."""

    def __init__(self, config: ConnectionConfig, policy: EgressPolicy, clock: Clock = time.time) -> None:
        super().__init__(config)
        self.policy = policy
        self.username_rules = MODERN if config.plugin_name == PLUGIN_MYSQL else LEGACY
        host = parse_dsn(config.connection_url)[2]  # refuse a bad URL when the plugin is made, not on first use
        self.tls = client_context(host, config.tls_ca, config.tls_certificate_key)  # and bad PEM
        self.pool: Pool[Connection] = Pool(self._open, _close, _discard, _alive, size=config.max_open_connections,
                                           max_idle=config.max_idle_seconds, clock=clock)

    def _secrets(self, *extra: str) -> tuple[str, ...]:
        return (self.config.password, self.config.pending_password, *extra)

    async def _open(self) -> Connection:
        cfg = self.config
        user_t, password_t, host, port, database = parse_dsn(cfg.connection_url)
        user = user_t.replace("{{username}}", cfg.username)
        addresses = await resolve_checked(host, port, self.policy)
        # A rotation cut short after the database changed leaves the new password pending: try it second.
        passwords = [p for p in (cfg.password, cfg.pending_password) if p] or [""]
        error = ""
        for password in passwords:
            try:
                return await asyncio.to_thread(
                    pymysql.connect, host=addresses[0], port=port, user=user,
                    password=password_t.replace("{{password}}", password), database=database or None,
                    connect_timeout=CONNECT_TIMEOUT, read_timeout=IO_TIMEOUT, write_timeout=IO_TIMEOUT,
                    autocommit=True, charset="utf8mb4", ssl=self.tls)
            except pymysql.MySQLError as exc:
                error = scrub(str(exc), self._secrets())
        raise DatabaseError(f"cannot connect to database {cfg.name!r} at {host}:{port}: {error}")

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Connection]:
        async with self.pool.connection() as conn:
            yield conn

    async def _run(self, work: Callable[[Connection], R]) -> R:
        async with self._session() as conn:
            return await asyncio.to_thread(work, conn)

    async def verify(self) -> None:
        await self._run(lambda conn: _execute(conn, "SELECT 1"))

    async def create_user(self, statements: Sequence[str], rollback: Sequence[str], username: str, password: str,
                          expire_time: float) -> None:
        values = {"name": username, "username": username, "password": password, "expiration": ""}

        def work(conn: Connection) -> str | None:
            try:
                _execute_templates(conn, statements, values)
            except pymysql.MySQLError as exc:
                for statement in rollback:
                    for part in split_statements(render_statement(statement, values)):
                        with suppress(pymysql.MySQLError):
                            _execute(conn, part)
                for host in _hosts(conn, username):
                    _execute(conn, "DROP USER IF EXISTS %s@%s", (username, host))
                return scrub(str(exc), self._secrets(password))
            return None

        error = await self._run(work)
        if error is not None:
            raise DatabaseError(f"creation_statements failed, nothing was created: {error}")

    async def renew_user(self, username: str, statements: Sequence[str], expire_time: float) -> None:
        """MySQL users have no expiry; only the role's own ``renew_statements`` (if any) run."""
        if not statements:
            return
        values = {"name": username, "username": username, "expiration": ""}
        await self._statements(statements, values, "renew_statements failed")

    async def _statements(self, statements: Sequence[str], values: dict[str, str], what: str,
                          *secrets: str) -> None:
        def work(conn: Connection) -> None:
            _execute_templates(conn, statements, values)

        try:
            await self._run(work)
        except pymysql.MySQLError as exc:
            raise DatabaseError(f"{what}: {scrub(str(exc), self._secrets(*secrets))}") from None

    async def revoke_user(self, username: str, statements: Sequence[str]) -> None:
        values = {"name": username, "username": username}

        def work(conn: Connection) -> None:
            hosts = _hosts(conn, username)
            if not hosts:
                return
            for host in hosts:  # no new session from here on
                _execute(conn, "ALTER USER %s@%s ACCOUNT LOCK", (username, host))
            _kill_sessions(conn, username)
            if statements:
                _execute_templates(conn, statements, values)
            else:
                for host in hosts:
                    _execute(conn, "DROP USER IF EXISTS %s@%s", (username, host))

        try:
            await self._run(work)
        except pymysql.MySQLError as exc:
            raise DatabaseError(f"revoking database user failed: {scrub(str(exc), self._secrets())}") from None

    async def set_password(self, username: str, password: str, statements: Sequence[str]) -> None:
        values = {"name": username, "username": username, "password": password}

        def work(conn: Connection) -> bool:
            hosts = _hosts(conn, username)
            if not hosts:
                return False
            if statements:
                _execute_templates(conn, statements, values)
            else:
                for host in hosts:
                    _execute(conn, "ALTER USER %s@%s IDENTIFIED BY %s", (username, host, password))
            return True

        try:
            found = await self._run(work)
        except pymysql.MySQLError as exc:
            raise DatabaseError(f"rotation_statements failed: {scrub(str(exc), self._secrets(password))}") from None
        if not found:
            raise DatabaseError(f"database user {username!r} does not exist")

    async def rotate_root(self, password: str, statements: Sequence[str]) -> None:
        if statements:
            values = {"name": self.config.username, "username": self.config.username, "password": password}
            await self._statements(statements, values, "root rotation failed", password)
            return
        try:
            await self._run(lambda conn: _set_own_password(conn, password))
        except pymysql.MySQLError as exc:
            raise DatabaseError(f"root rotation failed: {scrub(str(exc), self._secrets(password))}") from None

    async def close(self) -> None:
        await self.pool.close()

    @property
    def open_connections(self) -> int:
        return self.pool.open_count


def _execute(conn: Connection, statement: str, args: tuple[object, ...] | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute(statement, args)


def _execute_templates(conn: Connection, statements: Sequence[str], values: dict[str, str]) -> None:
    """Each statement rendered and cut at its semicolons, run in order."""
    for statement in statements:
        for part in split_statements(render_statement(statement, values)):
            _execute(conn, part)


def _set_own_password(conn: Connection, password: str) -> None:
    # The account by name: MariaDB accepts ``ALTER USER CURRENT_USER()`` but leaves the password as it was.
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        row = cur.fetchone()
    assert row is not None
    user, _, host = str(row[0]).rpartition("@")
    _execute(conn, "ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))


def _hosts(conn: Connection, username: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (username,))
        return [str(row[0]) for row in cur.fetchall()]


def _kill_sessions(conn: Connection, username: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s AND ID <> CONNECTION_ID()",
                    (username,))
        ids = [int(row[0]) for row in cur.fetchall()]
    for session in ids:
        with suppress(pymysql.MySQLError):  # it may have ended on its own meanwhile
            _execute(conn, f"KILL CONNECTION {session:d}")


async def _close(conn: Connection) -> None:
    await asyncio.to_thread(_discard, conn)


async def _alive(conn: Connection) -> bool:
    try:
        await asyncio.to_thread(conn.ping, False)
    except Exception:  # a dead socket raises OSError as well as the driver's own errors
        return False
    return True


def _discard(conn: Connection) -> None:
    with suppress(Exception):
        conn.close()
