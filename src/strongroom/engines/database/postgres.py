"""The PostgreSQL plugin (psycopg 3, async): users with ``VALID UNTIL``, dropped with their sessions.

Every new connection resolves the host once through
:func:`strongroom.sdk.egress.resolve_checked` and connects to exactly the
checked address (``hostaddr``), so DNS rebinding cannot redirect it. Errors are
turned into :class:`DatabaseError` with messages that never carry the
connection password or a generated password (the server's own message is
scrubbed of both).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy, resolve_checked
from strongroom.sdk.system import Clock

from .config import ConnectionConfig
from .plugin import CONNECT_TIMEOUT, DatabaseError, DatabasePlugin, scrub
from .pool import Pool
from .templates import UsernameRules, render_statement

Connection = psycopg.AsyncConnection[object]


def valid_until(expire_time: float) -> str:
    """The ``VALID UNTIL`` literal for an expiry on the core's clock (UTC, second precision)."""
    return datetime.fromtimestamp(expire_time, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


class Postgres(DatabasePlugin):
    """``postgresql-database-plugin``: at most ``max_open_connections`` connections in this process."""

    username_rules = UsernameRules("v-{{display_name}}-{{role}}-{{random 20}}-{{unix_time}}", 8, 8, 63)

    def __init__(self, config: ConnectionConfig, policy: EgressPolicy, clock: Clock = time.time) -> None:
        super().__init__(config)
        self.policy = policy
        self.pool: Pool[Connection] = Pool(self._open, _close, _discard, _alive, size=config.max_open_connections,
                                           max_idle=config.max_idle_seconds, clock=clock)

    def _target(self, password: str) -> tuple[str, str, int]:
        """(rendered URL, host, port); InvalidRequest for a URL that is not a PostgreSQL URL with a host."""
        cfg = self.config
        url = cfg.connection_url.replace("{{username}}", quote(cfg.username, safe="")).replace(
            "{{password}}", quote(password, safe=""))
        try:
            parts = urlsplit(url)
            port = parts.port or 5432
        except ValueError:
            raise InvalidRequest("connection_url is not a valid URL") from None
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            raise InvalidRequest("connection_url must be a postgres:// or postgresql:// URL with a host")
        return url, parts.hostname, port

    async def _open(self) -> Connection:
        # A rotation cut short after the database changed leaves the new password pending: try it second.
        passwords = [p for p in (self.config.password, self.config.pending_password) if p] or [""]
        error = ""
        for password in passwords:
            url, host, port = self._target(password)
            addresses = await resolve_checked(host, port, self.policy)
            try:
                return await psycopg.AsyncConnection.connect(url, hostaddr=addresses[0],
                                                             connect_timeout=CONNECT_TIMEOUT)
            except psycopg.Error as exc:
                error = f"{host}:{port}: {self._scrub(exc)}"
        raise DatabaseError(f"cannot connect to database {self.config.name!r} at {error}")

    def _scrub(self, exc: Exception, *extra: str) -> str:
        cfg = self.config
        return scrub(str(exc), (cfg.password, quote(cfg.password, safe=""), cfg.pending_password, *extra))

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """A pooled connection, handed back with no transaction open."""
        async with self.pool.connection() as conn:
            yield conn
            if conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()

    async def verify(self) -> None:
        async with self.connect() as conn:
            await conn.execute("SELECT 1")

    async def create_user(self, statements: Sequence[str], rollback: Sequence[str], username: str, password: str,
                          expire_time: float) -> None:
        """Run the creation statements in one transaction: on any error nothing is created.

        ``rollback`` statements (if any) run afterwards, best effort: the transaction has
        already undone the creation statements, so they only matter for side effects
        outside it.
        """
        values = {"name": username, "username": username, "password": password,
                  "expiration": valid_until(expire_time)}
        async with self.connect() as conn:
            try:
                async with conn.transaction():
                    for statement in statements:
                        await conn.execute(render_statement(statement, values).encode())
            except psycopg.Error as exc:
                for statement in rollback:
                    with suppress(psycopg.Error):
                        async with conn.transaction():
                            await conn.execute(render_statement(statement, values).encode())
                raise DatabaseError("creation_statements failed, nothing was created: "
                                    f"{self._scrub(exc, password)}") from None

    async def renew_user(self, username: str, statements: Sequence[str], expire_time: float) -> None:
        """Move the user's ``VALID UNTIL`` to ``expire_time`` (a user that is gone is left gone)."""
        async with self.connect() as conn:
            try:
                async with conn.transaction():
                    if statements:
                        values = {"name": username, "username": username, "expiration": valid_until(expire_time)}
                        for statement in statements:
                            await conn.execute(render_statement(statement, values).encode())
                        return
                    await conn.execute(sql.SQL(
                        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) "
                        "THEN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', {}, {}); END IF; END $$").format(
                        sql.Literal(username), sql.Literal(username), sql.Literal(valid_until(expire_time))))
            except psycopg.Error as exc:
                raise DatabaseError(f"renew_statements failed: {self._scrub(exc)}") from None

    async def revoke_user(self, username: str, statements: Sequence[str]) -> None:
        """Stop the user logging in, end its sessions, then drop it (``statements`` or the safe default).

        Idempotent: a user that no longer exists is already revoked.
        """
        name = sql.Identifier(username)
        async with self.connect() as conn:
            try:
                cur = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
                if await cur.fetchone() is None:
                    return
                # NOLOGIN commits first so that a session cannot be reopened while the old ones end.
                await conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(name))
                await conn.commit()
                await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                                   (username,))
                await conn.commit()
                async with conn.transaction():
                    if statements:
                        values = {"name": username, "username": username}
                        for statement in statements:
                            await conn.execute(render_statement(statement, values).encode())
                    else:
                        await conn.execute(sql.SQL("DROP OWNED BY {}").format(name))
                        await conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))
            except psycopg.Error as exc:
                raise DatabaseError(f"revoking database user failed: {self._scrub(exc)}") from None

    async def set_password(self, username: str, password: str, statements: Sequence[str]) -> None:
        async with self.connect() as conn:
            try:
                cur = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
                if await cur.fetchone() is None:
                    raise DatabaseError(f"database user {username!r} does not exist")
                await conn.rollback()
                async with conn.transaction():
                    if statements:
                        values = {"name": username, "username": username, "password": password}
                        for statement in statements:
                            await conn.execute(render_statement(statement, values).encode())
                    else:
                        await conn.execute(sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                            sql.Identifier(username), sql.Literal(password)))
            except psycopg.Error as exc:
                raise DatabaseError(f"rotation_statements failed: {self._scrub(exc, password)}") from None

    async def rotate_root(self, password: str, statements: Sequence[str]) -> None:
        async with self.connect() as conn:
            try:
                async with conn.transaction():
                    if statements:
                        values = {"name": self.config.username, "username": self.config.username,
                                  "password": password}
                        for statement in statements:
                            await conn.execute(render_statement(statement, values).encode())
                    else:
                        await conn.execute(sql.SQL("ALTER ROLE CURRENT_USER WITH PASSWORD {}").format(
                            sql.Literal(password)))
            except psycopg.Error as exc:
                raise DatabaseError(f"root rotation failed: {self._scrub(exc, password)}") from None

    async def close(self) -> None:
        await self.pool.close()

    @property
    def open_connections(self) -> int:
        return self.pool.open_count


async def _close(conn: Connection) -> None:
    await conn.close()


async def _alive(conn: Connection) -> bool:
    try:
        await conn.execute("SELECT 1")
        await conn.rollback()
    except Exception:  # a dead socket raises OSError as well as the driver's own errors
        return False
    return True


def _discard(conn: Connection) -> None:
    conn.pgconn.finish()
