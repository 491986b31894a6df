"""Talking to PostgreSQL (psycopg 3, async): connect through the egress check, create, renew, drop users.

Every connection resolves the host once through
:func:`strongroom.sdk.egress.resolve_checked` and connects to exactly the
checked address (``hostaddr``), so DNS rebinding cannot redirect it. Errors are
turned into :class:`DatabaseError` with messages that never carry the
connection password or a generated password (the server's own message is
scrubbed of both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

from strongroom.errors import InvalidRequest
from strongroom.sdk.egress import EgressPolicy, resolve_checked

from .config import ConnectionConfig
from .templates import render_statement

CONNECT_TIMEOUT = 5


class DatabaseError(InvalidRequest):
    """The database refused or could not be reached. The message names host and cause, never a password."""


def _scrub(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "<redacted>")
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def valid_until(expire_time: float) -> str:
    """The ``VALID UNTIL`` literal for an expiry on the core's clock (UTC, second precision)."""
    return datetime.fromtimestamp(expire_time, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


class Postgres:
    """Connections to one configured PostgreSQL server, at most ``max_open_connections`` at a time here."""

    def __init__(self, config: ConnectionConfig, policy: EgressPolicy) -> None:
        self.config = config
        self.policy = policy
        self._slots = asyncio.Semaphore(max(1, config.max_open_connections))

    def __repr__(self) -> str:
        return f"Postgres(name={self.config.name!r})"

    def _target(self) -> tuple[str, str, int]:
        """(rendered URL, host, port); InvalidRequest for a URL that is not a PostgreSQL URL with a host."""
        cfg = self.config
        url = cfg.connection_url.replace("{{username}}", quote(cfg.username, safe="")).replace(
            "{{password}}", quote(cfg.password, safe=""))
        try:
            parts = urlsplit(url)
            port = parts.port or 5432
        except ValueError:
            raise InvalidRequest("connection_url is not a valid URL") from None
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            raise InvalidRequest("connection_url must be a postgres:// or postgresql:// URL with a host")
        return url, parts.hostname, port

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[psycopg.AsyncConnection[object]]:
        """An open connection (autocommit off), closed on exit; DatabaseError when it cannot be made."""
        url, host, port = self._target()
        addresses = await resolve_checked(host, port, self.policy)
        async with self._slots:
            try:
                conn = await psycopg.AsyncConnection.connect(url, hostaddr=addresses[0],
                                                             connect_timeout=CONNECT_TIMEOUT)
            except psycopg.Error as exc:
                cause = _scrub(str(exc), (self.config.password, quote(self.config.password, safe="")))
                raise DatabaseError(f"cannot connect to database {self.config.name!r} at {host}:{port}: "
                                    f"{cause}") from None
            try:
                yield conn
            finally:
                await conn.close()

    async def verify(self) -> None:
        async with self.connect() as conn:
            await conn.execute("SELECT 1")

    async def create_user(self, statements: Sequence[str], username: str, password: str,
                          expire_time: float) -> None:
        """Run the creation statements in one transaction: on any error nothing is created."""
        values = {"name": username, "username": username, "password": password,
                  "expiration": valid_until(expire_time)}
        async with self.connect() as conn:
            try:
                async with conn.transaction():
                    for statement in statements:
                        await conn.execute(render_statement(statement, values).encode())
            except psycopg.Error as exc:
                raise DatabaseError("creation_statements failed, nothing was created: "
                                    f"{_scrub(str(exc), (password,))}") from None

    async def renew_user(self, username: str, expire_time: float) -> None:
        """Move the user's ``VALID UNTIL`` to ``expire_time`` (a user that is gone is left gone)."""
        async with self.connect() as conn:
            await conn.execute(sql.SQL("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) "
                                       "THEN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', {}, {}); "
                                       "END IF; END $$").format(
                sql.Literal(username), sql.Literal(username), sql.Literal(valid_until(expire_time))))
            await conn.commit()

    async def revoke_user(self, username: str, statements: Sequence[str]) -> None:
        """Stop the user logging in, end its sessions, then drop it (``statements`` or the safe default).

        Idempotent: a user that no longer exists is already revoked.
        """
        name = sql.Identifier(username)
        async with self.connect() as conn:
            try:
                cur = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
                if await cur.fetchone() is None:
                    await conn.rollback()
                    return
                # NOLOGIN commits first so that a session cannot be reopened while the old ones end.
                await conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(name))
                await conn.commit()
                await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                                   (username,))
                async with conn.transaction():
                    if statements:
                        values = {"name": username, "username": username}
                        for statement in statements:
                            await conn.execute(render_statement(statement, values).encode())
                    else:
                        await conn.execute(sql.SQL("DROP OWNED BY {}").format(name))
                        await conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))
                await conn.commit()
            except psycopg.Error as exc:
                raise DatabaseError(f"revoking database user failed: {_scrub(str(exc), ())}") from None
